"use client";
import {
  defaultConfig,
  type Issue,
  LINK_LOCAL_CIDR,
  LINK_LOCAL_CIDR_IPV6,
  type MasqConfig,
  parseCidr,
  parseConfigText,
  serializeConfig,
  validateConfig,
} from "@masq/shared";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useMemo, useRef, useState } from "react";
import { endpoints } from "../api/endpoints";
import type { ConfigResponse, ConflictCurrent, SaveResponse } from "../api/types";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { AlertTriangleIcon, PlusIcon, UndoIcon, XCircleIcon, XIcon } from "../components/icons";
import { ErrorState, LoadingBlock, PageHeader, Skeleton } from "../components/States";
import { RelativeTime } from "../components/Time";
import { useToast } from "../components/Toaster";
import { RolloutProgress } from "../fleet/SummaryBar";
import { useFleetState, useLiveEvent } from "../live/live";
import { useCanEdit, useMe } from "../shell/me";
import {
  checkCandidate,
  cidrKey,
  configsEqual,
  issuesByValue,
  looksComplete,
  rebase,
} from "./draft";
import { ReviewDialog, type ReviewPayload } from "./ReviewDialog";

type Source = "form" | "yaml";
type Tab = "list" | "yaml";

const inputClass =
  "h-9 rounded-md border-0 bg-white px-3 text-sm text-zinc-900 ring-1 ring-zinc-300 ring-inset placeholder:text-zinc-400 focus:ring-2 focus:ring-indigo-500 disabled:bg-zinc-50 disabled:text-zinc-500 aria-[invalid=true]:ring-red-500 dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700 dark:disabled:bg-zinc-900 dark:aria-[invalid=true]:ring-red-400";

export function ConfigView() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["config"], queryFn: ({ signal }) => endpoints.config(signal) });
  useLiveEvent(["config"], () => void qc.invalidateQueries({ queryKey: ["config"] }));
  if (q.isPending) {
    return (
      <>
        <PageHeader title="Config" description="The ip-masq-agent config every node enforces." />
        <LoadingBlock label="Loading config…">
          <Skeleton className="h-10 w-72" />
          <Skeleton className="h-64 w-full" />
        </LoadingBlock>
      </>
    );
  }
  if (q.isError) {
    return (
      <>
        <PageHeader title="Config" />
        <ErrorState error={q.error} what="the config" onRetry={() => void q.refetch()} />
      </>
    );
  }
  return <ConfigEditor latest={q.data} />;
}

function Toggle({
  id,
  label,
  description,
  checked,
  onChange,
  disabled,
}: {
  id: string;
  label: string;
  description: React.ReactNode;
  checked: boolean;
  onChange: (v: boolean) => void;
  disabled: boolean;
}) {
  return (
    <div className="flex items-start gap-3">
      <input
        id={id}
        type="checkbox"
        role="switch"
        checked={checked}
        aria-checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
        aria-describedby={`${id}-desc`}
        className="peer sr-only"
      />
      <label
        htmlFor={id}
        aria-hidden="true"
        className={`relative mt-0.5 inline-flex h-5 w-9 shrink-0 cursor-pointer rounded-full transition-colors peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-indigo-500 peer-disabled:cursor-not-allowed peer-disabled:opacity-60 ${
          checked ? "bg-indigo-600 dark:bg-indigo-500" : "bg-zinc-300 dark:bg-zinc-700"
        }`}
      >
        <span
          className={`absolute top-0.5 left-0.5 size-4 rounded-full bg-white shadow transition-transform ${checked ? "translate-x-4" : ""}`}
        />
      </label>
      <div className="text-sm">
        <label htmlFor={id} className="font-mono font-medium text-zinc-900 dark:text-zinc-100">
          {label}
        </label>
        <p id={`${id}-desc`} className="text-zinc-600 dark:text-zinc-400">
          {description}
        </p>
      </div>
    </div>
  );
}

function IssueLine({ issue, tone }: { issue: Issue; tone: "error" | "warning" }) {
  return (
    <p
      className={`flex items-start gap-1.5 text-xs ${tone === "error" ? "text-red-700 dark:text-red-400" : "text-amber-700 dark:text-amber-400"}`}
    >
      {tone === "error" ? (
        <XCircleIcon className="mt-px size-3.5 shrink-0" />
      ) : (
        <AlertTriangleIcon className="mt-px size-3.5 shrink-0" />
      )}
      <span>{issue.message}</span>
    </p>
  );
}

function ConfigEditor({ latest }: { latest: ConfigResponse }) {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useMe();
  const canEdit = useCanEdit();
  const fleet = useFleetState();
  const [base, setBase] = useState<ConfigResponse>(latest);
  const [config, setConfig] = useState<MasqConfig>(latest.config);
  const [yaml, setYaml] = useState(latest.yaml);
  const [source, setSource] = useState<Source>(latest.valid ? "form" : "yaml");
  const [tab, setTab] = useState<Tab>(latest.valid ? "list" : "yaml");
  const [tabError, setTabError] = useState<string | null>(null);
  const [candidate, setCandidate] = useState("");
  const [showCandidateErrors, setShowCandidateErrors] = useState(false);
  const [reviewing, setReviewing] = useState(false);
  const [savedRevision, setSavedRevision] = useState<string | null>(null);
  const addRef = useRef<HTMLInputElement>(null);
  const ids = {
    add: useId(),
    addMsg: useId(),
    ll: useId(),
    ll6: useId(),
    resync: useId(),
    limit: useId(),
    yaml: useId(),
    yamlMsg: useId(),
  };
  const flags = base.flags;

  const yamlParse = useMemo(
    () => (source === "yaml" ? parseConfigText(yaml, flags) : null),
    [source, yaml, flags],
  );
  const draftConfig: MasqConfig | null =
    source === "form" ? config : yamlParse?.ok ? yamlParse.config : null;
  const validation = useMemo(() => {
    if (source === "yaml" && yamlParse)
      return { errors: yamlParse.ok ? [] : yamlParse.errors, warnings: yamlParse.warnings };
    return validateConfig(config, flags);
  }, [source, yamlParse, config, flags]);
  const dirty = source === "yaml" ? yaml !== base.yaml : !configsEqual(config, base.config);
  const byValue = useMemo(
    () => ({
      errors: issuesByValue(validation.errors),
      warnings: issuesByValue(validation.warnings),
    }),
    [validation],
  );
  const candidateCheck = useMemo(
    () => checkCandidate(config, candidate, flags),
    [config, candidate, flags],
  );
  const showCheck = candidate.trim() !== "" && (showCandidateErrors || looksComplete(candidate));

  const reset = (next: ConfigResponse) => {
    setBase(next);
    setConfig(next.config);
    setYaml(next.yaml);
    setSource(next.valid ? "form" : "yaml");
    if (!next.valid) setTab("yaml");
    setTabError(null);
  };

  // A newer revision arrived (live event): adopt it when nothing is being edited.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only react to a new revision
  useEffect(() => {
    if (latest.revision !== base.revision && !dirty && !reviewing) reset(latest);
  }, [latest.revision]);

  const newer = latest.revision !== base.revision ? latest : null;
  const rollout = fleet.summary?.rollout ?? null;
  const showRollout =
    rollout && (rollout.finishedAt === null || rollout.revision === savedRevision);

  const edit = (f: (c: MasqConfig) => MasqConfig) => {
    setConfig((c) => f(c));
    setSource("form");
  };

  const add = (e: FormEvent) => {
    e.preventDefault();
    const text = candidate.trim();
    if (text === "") {
      addRef.current?.focus();
      return;
    }
    const check = checkCandidate(config, text, flags);
    if (check.errors.length > 0) {
      setShowCandidateErrors(true);
      addRef.current?.focus();
      return;
    }
    edit((c) => ({ ...c, nonMasqueradeCIDRs: [...c.nonMasqueradeCIDRs, text] }));
    setCandidate("");
    setShowCandidateErrors(false);
    addRef.current?.focus();
  };

  const remove = (cidr: string) =>
    edit((c) => ({ ...c, nonMasqueradeCIDRs: c.nonMasqueradeCIDRs.filter((x) => x !== cidr) }));
  const restore = (cidr: string) =>
    edit((c) => ({ ...c, nonMasqueradeCIDRs: [...c.nonMasqueradeCIDRs, cidr] }));

  const switchTab = (t: Tab) => {
    setTabError(null);
    if (t === tab) return;
    if (t === "yaml") {
      if (source === "form" && !configsEqual(config, base.config)) setYaml(serializeConfig(config));
      else if (source === "form") setYaml(base.yaml);
      setTab("yaml");
      return;
    }
    if (source === "yaml") {
      const r = parseConfigText(yaml, flags);
      if (!r.ok) {
        setTabError("Fix the YAML errors below before switching to the list view.");
        return;
      }
      setConfig(r.config);
      setSource("form");
    }
    setTab("list");
  };

  const discard = () => reset(base);

  const payload: ReviewPayload | null = draftConfig
    ? source === "yaml"
      ? { kind: "yaml", yaml, config: draftConfig }
      : { kind: "config", config: draftConfig }
    : null;

  const onSaved = async (r: SaveResponse) => {
    setReviewing(false);
    setSavedRevision(r.revision);
    toast("success", `Saved revision ${r.revision}; nodes are applying it now`);
    const fresh = await qc.fetchQuery({
      queryKey: ["config"],
      queryFn: () => endpoints.config(),
      staleTime: 0,
    });
    reset(fresh);
    void qc.invalidateQueries({ queryKey: ["history"] });
  };

  const adoptCurrent = (current: ConflictCurrent): ConfigResponse => ({
    ...base,
    revision: current.revision,
    yaml: current.yaml,
    config: current.config ?? defaultConfig(base.flags),
    author: current.author,
    updatedAt: current.updatedAt,
    valid: current.config !== null,
    errors: [],
    warnings: [],
  });

  const onReloadTheirs = (current: ConflictCurrent) => {
    setReviewing(false);
    reset(adoptCurrent(current));
    void qc.invalidateQueries({ queryKey: ["config"] });
  };

  const onRebase = (current: ConflictCurrent) => {
    const mine = draftConfig ?? config;
    if (!current.config) return;
    const rebased = rebase(base.config, mine, current.config);
    setBase(adoptCurrent(current));
    setConfig(rebased);
    setSource("form");
    setTab("list");
    // Review again, now against their revision.
    setReviewing(true);
  };

  const removed = base.config.nonMasqueradeCIDRs.filter(
    (b) => !config.nonMasqueradeCIDRs.some((c) => cidrKey(c) === cidrKey(b)),
  );
  const baseKeys = new Set(base.config.nonMasqueradeCIDRs.map(cidrKey));
  const readOnly = !canEdit;
  const errorCount = validation.errors.length;

  return (
    <>
      <PageHeader
        title="Config"
        description={
          <>
            Revision{" "}
            <span className="font-mono font-medium text-zinc-900 dark:text-zinc-100">
              {base.revision}
            </span>
            {base.author ? <> · saved by {base.author}</> : null}
            {base.updatedAt ? (
              <>
                {" "}
                <RelativeTime value={base.updatedAt} />
              </>
            ) : null}
          </>
        }
        actions={
          readOnly ? null : (
            <>
              <Button onClick={discard} disabled={!dirty}>
                Discard changes
              </Button>
              <Button
                variant="primary"
                disabled={!dirty || errorCount > 0 || !payload}
                onClick={() => setReviewing(true)}
                title={
                  errorCount > 0
                    ? "Fix the errors first"
                    : !dirty
                      ? "Nothing changed"
                      : "Review the change before saving"
                }
              >
                Save
              </Button>
            </>
          )
        }
      />
      <div className="space-y-4">
        {me.data?.role === "viewer" ? (
          <Callout tone="info" title="Read-only">
            You are signed in as a viewer: you can see the config but not change it.
          </Callout>
        ) : null}
        {!latest.valid && latest.revision === base.revision ? (
          <Callout
            tone="error"
            role="alert"
            title="The stored config is invalid and is not pushed to nodes"
          >
            <ul className="list-disc pl-4">
              {latest.errors.map((e) => (
                <li key={e.message}>{e.message}</li>
              ))}
            </ul>
            <p className="mt-1">
              Nodes keep enforcing the last valid config. Fix it below and save.
            </p>
          </Callout>
        ) : null}
        {newer ? (
          <Callout
            tone="warning"
            title={`Revision ${newer.revision} was saved while you were editing`}
            actions={
              <Button size="sm" onClick={() => reset(newer)}>
                Discard my changes and load revision {newer.revision}
              </Button>
            }
          >
            {newer.author ? `Saved by ${newer.author}. ` : ""}When you save, you will see their
            change next to yours and choose how to combine them.
          </Callout>
        ) : null}
        {showRollout && rollout ? (
          <div className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
            <RolloutProgress rollout={rollout} />
          </div>
        ) : null}

        <div className="rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
          <div
            role="tablist"
            aria-label="Editor view"
            className="flex gap-1 border-b border-zinc-200 px-3 pt-2 dark:border-zinc-800"
          >
            {(["list", "yaml"] as const).map((t) => (
              <button
                key={t}
                type="button"
                role="tab"
                id={`tab-${t}`}
                aria-selected={tab === t}
                aria-controls={`panel-${t}`}
                onClick={() => switchTab(t)}
                onKeyDown={(e) => {
                  if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
                    e.preventDefault();
                    const other = t === "list" ? "yaml" : "list";
                    switchTab(other);
                    document.getElementById(`tab-${other}`)?.focus();
                  }
                }}
                tabIndex={tab === t ? 0 : -1}
                className={`-mb-px rounded-t-md border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                  tab === t
                    ? "border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300"
                    : "border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"
                }`}
              >
                {t === "list" ? "CIDR list" : "YAML"}
              </button>
            ))}
            {dirty ? (
              <span className="ml-auto self-center rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800 dark:bg-amber-500/15 dark:text-amber-300">
                Unsaved changes
              </span>
            ) : null}
          </div>
          {tabError ? (
            <div className="px-4 pt-3">
              <Callout tone="error" role="alert">
                {tabError}
              </Callout>
            </div>
          ) : null}

          {tab === "list" ? (
            <div
              id="panel-list"
              role="tabpanel"
              aria-labelledby="tab-list"
              className="grid gap-6 p-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]"
            >
              <section aria-labelledby="cidrs-heading">
                <h2
                  id="cidrs-heading"
                  className="text-sm font-semibold text-zinc-900 dark:text-zinc-100"
                >
                  nonMasqueradeCIDRs
                </h2>
                <p className="mt-0.5 mb-3 text-sm text-zinc-600 dark:text-zinc-400">
                  Pod traffic to these destinations keeps the pod IP; everything else leaves with
                  the node IP.
                </p>
                {!readOnly ? (
                  <form onSubmit={add} className="mb-3" noValidate>
                    <label
                      htmlFor={ids.add}
                      className="mb-1 block text-sm font-medium text-zinc-800 dark:text-zinc-200"
                    >
                      Add CIDR
                    </label>
                    <div className="flex gap-2">
                      <input
                        id={ids.add}
                        ref={addRef}
                        value={candidate}
                        onChange={(e) => {
                          setCandidate(e.target.value);
                          if (e.target.value.trim() === "") setShowCandidateErrors(false);
                        }}
                        onBlur={() => candidate.trim() !== "" && setShowCandidateErrors(true)}
                        placeholder="e.g. 100.64.0.0/10"
                        autoComplete="off"
                        spellCheck={false}
                        aria-invalid={showCheck && candidateCheck.errors.length > 0}
                        aria-describedby={ids.addMsg}
                        className={`${inputClass} w-full max-w-xs font-mono`}
                      />
                      <Button
                        type="submit"
                        variant="secondary"
                        icon={<PlusIcon className="size-4" />}
                      >
                        Add
                      </Button>
                    </div>
                    <div id={ids.addMsg} className="mt-1.5 min-h-5">
                      {showCheck && candidateCheck.errors.length > 0 ? (
                        <div
                          role="alert"
                          className="flex flex-wrap items-center gap-2 text-sm text-red-700 dark:text-red-400"
                        >
                          <XCircleIcon className="size-4 shrink-0" />
                          <span>{candidateCheck.errors[0]!.message}</span>
                          {candidateCheck.errors[0]!.suggestion ? (
                            <button
                              type="button"
                              className="rounded px-1.5 py-0.5 font-medium underline decoration-dotted underline-offset-2 hover:bg-red-50 dark:hover:bg-red-500/10"
                              onClick={() => {
                                setCandidate(candidateCheck.errors[0]!.suggestion!);
                                addRef.current?.focus();
                              }}
                            >
                              Use {candidateCheck.errors[0]!.suggestion}
                            </button>
                          ) : null}
                        </div>
                      ) : showCheck && candidateCheck.warnings.length > 0 ? (
                        <div
                          role="alert"
                          className="flex items-center gap-2 text-sm text-amber-700 dark:text-amber-400"
                        >
                          <AlertTriangleIcon className="size-4 shrink-0" />
                          <span>{candidateCheck.warnings[0]!.message}</span>
                        </div>
                      ) : null}
                    </div>
                  </form>
                ) : null}
                <ul
                  className="divide-y divide-zinc-100 rounded-lg ring-1 ring-zinc-200 dark:divide-zinc-800 dark:ring-zinc-800"
                  aria-label="Non-masquerade CIDRs"
                >
                  {config.masqLinkLocal ? null : (
                    <li className="flex items-center gap-3 px-3 py-2 text-sm text-zinc-500 dark:text-zinc-400">
                      <span className="font-mono">{LINK_LOCAL_CIDR}</span>
                      <span className="text-xs">
                        link-local, implied while masqLinkLocal is off
                      </span>
                    </li>
                  )}
                  {flags.enableIPv6 && !config.masqLinkLocalIPv6 ? (
                    <li className="flex items-center gap-3 px-3 py-2 text-sm text-zinc-500 dark:text-zinc-400">
                      <span className="font-mono">{LINK_LOCAL_CIDR_IPV6}</span>
                      <span className="text-xs">
                        link-local, implied while masqLinkLocalIPv6 is off
                      </span>
                    </li>
                  ) : null}
                  {config.nonMasqueradeCIDRs.map((c, i) => {
                    const isNew = !baseKeys.has(cidrKey(c));
                    const errs = byValue.errors.get(c) ?? [];
                    const warns = byValue.warnings.get(c) ?? [];
                    const p = parseCidr(c);
                    return (
                      <li
                        // biome-ignore lint/suspicious/noArrayIndexKey: duplicates are possible in stored configs
                        key={`${c}#${i}`}
                        className={`flex items-start gap-3 px-3 py-2 ${isNew ? "bg-emerald-50/70 dark:bg-emerald-500/5" : ""}`}
                      >
                        <div className="min-w-0 flex-1">
                          <div className="flex flex-wrap items-center gap-2">
                            <span className="font-mono text-sm text-zinc-900 dark:text-zinc-100">
                              {c}
                            </span>
                            {p.ok ? (
                              <span className="rounded bg-zinc-100 px-1.5 text-[11px] text-zinc-600 dark:bg-zinc-800 dark:text-zinc-400">
                                {p.cidr.family === "ipv4" ? "IPv4" : "IPv6"}
                              </span>
                            ) : null}
                            {isNew ? (
                              <span className="rounded bg-emerald-100 px-1.5 text-[11px] font-medium text-emerald-800 dark:bg-emerald-500/15 dark:text-emerald-300">
                                new
                              </span>
                            ) : null}
                          </div>
                          {errs.map((x) => (
                            <IssueLine key={x.message} issue={x} tone="error" />
                          ))}
                          {warns.map((x) => (
                            <IssueLine key={x.message} issue={x} tone="warning" />
                          ))}
                        </div>
                        {!readOnly ? (
                          <button
                            type="button"
                            onClick={() => remove(c)}
                            aria-label={`Remove ${c}`}
                            title={`Remove ${c}`}
                            className="rounded-md p-1.5 text-zinc-500 hover:bg-red-50 hover:text-red-700 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-400 dark:hover:bg-red-500/10 dark:hover:text-red-400"
                          >
                            <XIcon className="size-4" />
                          </button>
                        ) : null}
                      </li>
                    );
                  })}
                  {removed.map((c) => (
                    <li
                      key={`removed-${c}`}
                      className="flex items-center gap-3 bg-red-50/70 px-3 py-2 dark:bg-red-500/5"
                    >
                      <span className="flex-1 font-mono text-sm text-red-800 line-through decoration-red-500/60 dark:text-red-300">
                        {c}
                      </span>
                      <span className="text-[11px] font-medium text-red-700 dark:text-red-400">
                        removed
                      </span>
                      {!readOnly ? (
                        <Button
                          size="sm"
                          variant="ghost"
                          onClick={() => restore(c)}
                          aria-label={`Restore ${c}`}
                          icon={<UndoIcon className="size-3.5" />}
                        >
                          Restore
                        </Button>
                      ) : null}
                    </li>
                  ))}
                  {config.nonMasqueradeCIDRs.length === 0 && removed.length === 0 ? (
                    <li className="px-3 py-4 text-sm text-zinc-500 dark:text-zinc-400">
                      The list is empty: all pod traffic leaving the cluster is masqueraded
                      {config.masqLinkLocal ? "" : " except link-local"}.
                    </li>
                  ) : null}
                </ul>
              </section>

              <section aria-labelledby="options-heading" className="space-y-5">
                <h2
                  id="options-heading"
                  className="text-sm font-semibold text-zinc-900 dark:text-zinc-100"
                >
                  Options
                </h2>
                <Toggle
                  id={ids.ll}
                  label="masqLinkLocal"
                  checked={config.masqLinkLocal}
                  disabled={readOnly}
                  onChange={(v) => edit((c) => ({ ...c, masqLinkLocal: v }))}
                  description={<>Masquerade traffic to link-local {LINK_LOCAL_CIDR} too.</>}
                />
                <Toggle
                  id={ids.ll6}
                  label="masqLinkLocalIPv6"
                  checked={config.masqLinkLocalIPv6}
                  disabled={readOnly}
                  onChange={(v) => edit((c) => ({ ...c, masqLinkLocalIPv6: v }))}
                  description={
                    <>
                      Masquerade traffic to {LINK_LOCAL_CIDR_IPV6}.{" "}
                      {flags.enableIPv6 ? null : (
                        <span className="italic">
                          Only used when the agents run with --enable-ipv6.
                        </span>
                      )}
                    </>
                  }
                />
                <div>
                  <label
                    htmlFor={ids.resync}
                    className="block font-mono text-sm font-medium text-zinc-900 dark:text-zinc-100"
                  >
                    resyncInterval
                  </label>
                  <p
                    id={`${ids.resync}-desc`}
                    className="mb-1 text-sm text-zinc-600 dark:text-zinc-400"
                  >
                    How often every node re-reads and re-applies its chain (Go duration: 60s, 5m,
                    1h30m).
                  </p>
                  <input
                    id={ids.resync}
                    value={config.resyncInterval}
                    disabled={readOnly}
                    onChange={(e) => edit((c) => ({ ...c, resyncInterval: e.target.value }))}
                    aria-invalid={
                      validation.errors.some((x) => x.code === "duration") && source === "form"
                    }
                    aria-describedby={`${ids.resync}-desc ${ids.resync}-err`}
                    spellCheck={false}
                    className={`${inputClass} w-40 font-mono`}
                  />
                  <div id={`${ids.resync}-err`}>
                    {source === "form"
                      ? validation.errors
                          .filter((x) => x.code === "duration")
                          .map((x) => (
                            <p
                              key={x.message}
                              role="alert"
                              className="mt-1 text-sm text-red-700 dark:text-red-400"
                            >
                              {x.message}
                            </p>
                          ))
                      : null}
                  </div>
                </div>
                <div>
                  <label
                    htmlFor={ids.limit}
                    className="block font-mono text-sm font-medium text-zinc-900 dark:text-zinc-100"
                  >
                    cidrLimit
                  </label>
                  <p
                    id={`${ids.limit}-desc`}
                    className="mb-1 text-sm text-zinc-600 dark:text-zinc-400"
                  >
                    The most CIDRs the agents accept (link-local not counted).
                  </p>
                  <input
                    id={ids.limit}
                    type="number"
                    min={1}
                    value={config.cidrLimit}
                    disabled={readOnly}
                    onChange={(e) => {
                      const n = Number.parseInt(e.target.value, 10);
                      if (Number.isFinite(n)) edit((c) => ({ ...c, cidrLimit: n }));
                    }}
                    aria-describedby={`${ids.limit}-desc`}
                    className={`${inputClass} w-28`}
                  />
                  {source === "form"
                    ? validation.errors
                        .filter((x) => x.code === "cidr-limit")
                        .map((x) => (
                          <p
                            key={x.message}
                            role="alert"
                            className="mt-1 text-sm text-red-700 dark:text-red-400"
                          >
                            {x.message}
                          </p>
                        ))
                    : null}
                </div>
                <div className="rounded-lg bg-zinc-50 p-3 text-xs text-zinc-600 dark:bg-zinc-950/60 dark:text-zinc-400">
                  <p className="font-medium text-zinc-700 dark:text-zinc-300">
                    Agent flags (per node, not part of the ConfigMap)
                  </p>
                  <p className="mt-1 font-mono">
                    chain {flags.masqChain} · random-fully {flags.randomFully ? "on" : "off"} · IPv6{" "}
                    {flags.enableIPv6 ? "on" : "off"}
                    {flags.toPorts ? ` · to-ports ${flags.toPorts}` : ""}
                  </p>
                </div>
              </section>
            </div>
          ) : (
            <div id="panel-yaml" role="tabpanel" aria-labelledby="tab-yaml" className="p-4">
              <label
                htmlFor={ids.yaml}
                className="mb-1 block text-sm font-medium text-zinc-800 dark:text-zinc-200"
              >
                Config YAML{" "}
                <span className="font-normal text-zinc-500">
                  (the ConfigMap&apos;s <code>config</code> key, YAML or JSON)
                </span>
              </label>
              <textarea
                id={ids.yaml}
                value={yaml}
                readOnly={readOnly}
                onChange={(e) => {
                  setYaml(e.target.value);
                  setSource("yaml");
                }}
                rows={Math.min(30, Math.max(12, yaml.split("\n").length + 2))}
                spellCheck={false}
                aria-invalid={source === "yaml" && validation.errors.length > 0}
                aria-describedby={ids.yamlMsg}
                className="block w-full rounded-md border-0 bg-zinc-50 p-3 font-mono text-sm leading-6 text-zinc-900 ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 aria-[invalid=true]:ring-red-500 dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700"
              />
              <div id={ids.yamlMsg} className="mt-2 space-y-1">
                {source === "yaml" && validation.errors.length > 0 ? (
                  <div role="alert" className="space-y-1">
                    {validation.errors.map((x) => (
                      <IssueLine key={x.message} issue={x} tone="error" />
                    ))}
                  </div>
                ) : null}
                {source === "yaml"
                  ? validation.warnings.map((x) => (
                      <IssueLine key={x.message} issue={x} tone="warning" />
                    ))
                  : null}
                {source === "yaml" && validation.errors.length === 0 ? (
                  <p className="text-xs text-emerald-700 dark:text-emerald-400">Valid config.</p>
                ) : null}
              </div>
            </div>
          )}
        </div>
        {tab === "list" && errorCount > 0 && source === "form" ? (
          <Callout
            tone="error"
            title={`${errorCount} problem${errorCount === 1 ? "" : "s"} to fix before saving`}
          >
            <ul className="list-disc pl-4">
              {validation.errors.map((x) => (
                <li key={x.message}>{x.message}</li>
              ))}
            </ul>
          </Callout>
        ) : null}
      </div>
      {reviewing && payload ? (
        <ReviewDialog
          open={reviewing}
          base={base}
          latest={latest}
          payload={payload}
          onClose={() => setReviewing(false)}
          onSaved={(r) => void onSaved(r)}
          onReloadTheirs={onReloadTheirs}
          onRebase={onRebase}
        />
      ) : null}
    </>
  );
}
