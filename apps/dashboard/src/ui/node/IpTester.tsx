"use client";
import { type EvaluateResponse, type Freshness, parseIp, type Verdict } from "@masq/shared";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { RelativeTime } from "../components/Time";

function isVerdict(v: Verdict | { error: string }): v is Verdict {
  return !("error" in v);
}

/** Where the node's answer comes from: its current rules, or its last known ones and how old. */
export function RulesSource({ rules }: { rules: Freshness }) {
  if (rules.liveness === "live") return <>from this node&apos;s real rules</>;
  return (
    <>
      from this node&apos;s last known rules, <RelativeTime value={rules.lastSeenAt} />
    </>
  );
}

function VerdictCard({
  label,
  source,
  v,
}: {
  label: string;
  /** Where the answer comes from, under the label. */
  source?: ReactNode;
  v: Verdict | { error: string };
}) {
  const heading = (
    <>
      <p className="text-xs font-medium tracking-wide text-zinc-600 uppercase dark:text-zinc-400">
        {label}
      </p>
      {source ? <p className="text-xs text-zinc-600 dark:text-zinc-400">{source}</p> : null}
    </>
  );
  if (!isVerdict(v)) {
    return (
      <div className="rounded-lg p-3 ring-1 ring-zinc-200 dark:ring-zinc-800">
        {heading}
        <p className="mt-1 text-sm text-zinc-700 dark:text-zinc-300">{v.error}</p>
      </div>
    );
  }
  return (
    <div
      className={`rounded-lg p-3 ring-1 ring-inset ${
        v.masqueraded === null
          ? "ring-zinc-300 dark:ring-zinc-700"
          : v.masqueraded
            ? "bg-amber-50 ring-amber-600/20 dark:bg-amber-500/10 dark:ring-amber-400/20"
            : "bg-emerald-50 ring-emerald-600/20 dark:bg-emerald-500/10 dark:ring-emerald-400/20"
      }`}
    >
      {heading}
      <p
        className={`mt-0.5 text-sm font-semibold ${v.masqueraded ? "text-amber-800 dark:text-amber-300" : "text-emerald-800 dark:text-emerald-300"}`}
      >
        {v.masqueraded === null
          ? "Depends on the packet, or cannot be said from these rules"
          : v.masqueraded
            ? "Masqueraded: leaves with the node IP"
            : "Not masqueraded: keeps the pod IP"}
        {v.certain || v.masqueraded === null ? "" : " (for this chain alone)"}
      </p>
      <p className="mt-1 text-sm text-zinc-700 dark:text-zinc-300">{v.reason}</p>
      {v.decidedBy ? (
        <p className="mt-1.5 text-xs text-zinc-600 dark:text-zinc-400">
          Deciding rule: {v.decidedBy.chain} rule {v.decidedBy.index + 1}
          <code className="mt-0.5 block font-mono text-[11px] break-all text-zinc-500">
            {v.decidedBy.text}
          </code>
        </p>
      ) : null}
      {v.caveats.length > 0 ? (
        <ul className="mt-1.5 list-disc pl-4 text-xs text-zinc-600 dark:text-zinc-400">
          {v.caveats.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function IpTester({ name }: { name: string }) {
  const [ip, setIp] = useState("");
  const [touched, setTouched] = useState(false);
  const inputId = useId();
  const msgId = useId();
  const m = useMutation<EvaluateResponse, Error, string>({
    mutationFn: (x) => endpoints.evaluate(name, x),
  });
  const text = ip.trim();
  const parsed = text === "" ? null : parseIp(text);
  const invalid = touched && text !== "" && !parsed;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!parsed) return;
    m.mutate(text);
  };

  const r = m.data;
  const differs =
    r &&
    isVerdict(r.desired) &&
    isVerdict(r.actual) &&
    r.desired.masqueraded !== r.actual.masqueraded;
  return (
    <div>
      <form onSubmit={submit} noValidate className="flex gap-2">
        <div className="min-w-0 flex-1">
          <label htmlFor={inputId} className="sr-only">
            Destination IP
          </label>
          <input
            id={inputId}
            value={ip}
            onChange={(e) => {
              setIp(e.target.value);
              setTouched(false);
            }}
            onBlur={() => setTouched(true)}
            placeholder="Destination IP, e.g. 10.1.2.3"
            aria-invalid={invalid}
            aria-describedby={msgId}
            spellCheck={false}
            autoComplete="off"
            className="h-9 w-full rounded-md border-0 bg-white px-3 font-mono text-sm ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 aria-[invalid=true]:ring-red-500 dark:bg-zinc-950 dark:ring-zinc-700"
          />
        </div>
        <Button type="submit" busy={m.isPending}>
          Check
        </Button>
      </form>
      <div id={msgId} className="mt-1.5">
        {invalid ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            &quot;{text}&quot; is not an IP address.
          </p>
        ) : null}
      </div>
      {m.isError ? (
        <Callout tone="error" role="alert" className="mt-3">
          {errorMessage(m.error)}
        </Callout>
      ) : null}
      {r ? (
        <div className="mt-3 space-y-2" aria-live="polite">
          {differs ? (
            <Callout
              tone="error"
              title={`This node treats ${m.variables} differently than configured`}
            />
          ) : null}
          <VerdictCard label="Desired (config)" v={r.desired} />
          <VerdictCard
            label="Actual (this node)"
            source={
              <>
                Answered <RulesSource rules={r.rules} />
              </>
            }
            v={r.actual}
          />
        </div>
      ) : null}
    </div>
  );
}
