"use client";
// How a save rolls out: every node at once, or in waves (a canary, then cumulative
// percentages, paused between waves until promoted or for a time). Starts from the
// dashboard's default (IPMASQ_ROLLOUT_STRATEGY); checked with the shared schema as typed.
// While the server refuses waves (other dashboard replicas are active: `stagedRefusal` of
// GET /api/config) it starts at "all at once" and says why waves cannot be picked.
import { type RolloutStrategy, rolloutStrategySchema, zodReason } from "@masq/shared";
import { useId, useMemo, useState } from "react";

type CanaryKind = "count" | "percent" | "selector";

interface Fields {
  mode: "all-at-once" | "waves";
  canaryKind: CanaryKind;
  canary: string;
  waves: string;
  pause: "manual" | "duration";
  seconds: string;
}

function fieldsOf(s: RolloutStrategy | undefined): Fields {
  const base: Fields = {
    mode: "all-at-once",
    canaryKind: "count",
    canary: "1",
    waves: "50, 100",
    pause: "manual",
    seconds: "60",
  };
  if (s?.kind !== "waves") return base;
  const c = s.canary;
  return {
    mode: "waves",
    canaryKind: "count" in c ? "count" : "percent" in c ? "percent" : "selector",
    canary:
      "count" in c
        ? String(c.count)
        : "percent" in c
          ? String(c.percent)
          : Object.entries(c.selector)
              .map(([k, v]) => `${k}=${v}`)
              .join(","),
    waves: s.waves.join(", "),
    pause: s.pause.kind,
    seconds: s.pause.kind === "duration" ? String(s.pause.seconds) : "60",
  };
}

function canaryOf(f: Fields): unknown {
  if (f.canaryKind === "selector")
    return {
      selector: Object.fromEntries(
        f.canary
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean)
          .map((t) => t.split("=").map((x) => x.trim())),
      ),
    };
  return { [f.canaryKind]: Number(f.canary) };
}

/** The strategy the fields describe, or why they do not describe one. */
export function strategyOf(f: Fields): { value: RolloutStrategy | null; error: string | null } {
  if (f.mode === "all-at-once") return { value: { kind: "all-at-once" }, error: null };
  const candidate = {
    kind: "waves",
    canary: canaryOf(f),
    waves: f.waves
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((w) => Number(w.replace(/%$/, ""))),
    pause:
      f.pause === "manual" ? { kind: "manual" } : { kind: "duration", seconds: Number(f.seconds) },
  };
  const r = rolloutStrategySchema.safeParse(candidate);
  return r.success
    ? { value: r.data, error: null }
    : { value: null, error: zodReason(r.error, { issues: 1 }) };
}

export function useStrategyDraft(
  initial: RolloutStrategy | undefined,
  refusal: string | null = null,
) {
  const [fields, setFields] = useState(() => fieldsOf(refusal ? undefined : initial));
  const checked = useMemo(() => {
    const c = strategyOf(fields);
    return refusal && fields.mode === "waves" ? { value: null, error: refusal } : c;
  }, [fields, refusal]);
  return {
    fields,
    refusal,
    set: (p: Partial<Fields>) => setFields((f) => ({ ...f, ...p })),
    ...checked,
  };
}

const input =
  "h-8 rounded-md border-0 bg-white px-2 text-sm ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 dark:bg-zinc-950 dark:ring-zinc-700";

export function StrategyPicker({ draft }: { draft: ReturnType<typeof useStrategyDraft> }) {
  const id = useId();
  const f = draft.fields;
  return (
    <fieldset className="space-y-2">
      <legend className="mb-1 text-sm font-semibold">How it rolls out</legend>
      <div className="flex flex-wrap gap-4 text-sm">
        <label className="flex items-center gap-1.5">
          <input
            type="radio"
            name={`${id}-mode`}
            checked={f.mode === "all-at-once"}
            onChange={() => draft.set({ mode: "all-at-once" })}
          />
          All nodes at once
        </label>
        <label className="flex items-center gap-1.5">
          <input
            type="radio"
            name={`${id}-mode`}
            checked={f.mode === "waves"}
            disabled={draft.refusal !== null && f.mode !== "waves"}
            onChange={() => draft.set({ mode: "waves" })}
          />
          In waves, canary first
        </label>
      </div>
      {draft.refusal ? (
        <p className="text-xs text-zinc-600 dark:text-zinc-400">
          Waves are not available now: {draft.refusal}. Roll out all at once.
        </p>
      ) : null}
      {f.mode === "waves" && !draft.refusal ? <WaveFields draft={draft} id={id} /> : null}
      {draft.error ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {draft.error}
        </p>
      ) : null}
    </fieldset>
  );
}

function WaveFields({ draft, id }: { draft: ReturnType<typeof useStrategyDraft>; id: string }) {
  const f = draft.fields;
  return (
    <div className="grid gap-2 rounded-lg bg-zinc-50 p-3 text-sm sm:grid-cols-[auto_1fr] sm:items-center dark:bg-zinc-950">
      <label htmlFor={`${id}-canary`}>Canary</label>
      <div className="flex flex-wrap items-center gap-2">
        <input
          id={`${id}-canary`}
          value={f.canary}
          onChange={(e) => draft.set({ canary: e.target.value })}
          className={`${input} ${f.canaryKind === "selector" ? "w-56" : "w-20"}`}
        />
        <select
          aria-label="Canary by"
          value={f.canaryKind}
          onChange={(e) => draft.set({ canaryKind: e.target.value as CanaryKind })}
          className={input}
        >
          <option value="count">nodes</option>
          <option value="percent">% of nodes</option>
          <option value="selector">nodes with labels (key=value,…)</option>
        </select>
      </div>
      <label htmlFor={`${id}-waves`}>Then waves, % of all nodes</label>
      <input
        id={`${id}-waves`}
        value={f.waves}
        onChange={(e) => draft.set({ waves: e.target.value })}
        className={`${input} w-40`}
        placeholder="50, 100"
      />
      <span>Between waves</span>
      <div className="flex flex-wrap items-center gap-3">
        <label className="flex items-center gap-1.5">
          <input
            type="radio"
            name={`${id}-pause`}
            checked={f.pause === "manual"}
            onChange={() => draft.set({ pause: "manual" })}
          />
          pause until promoted
        </label>
        <label className="flex items-center gap-1.5">
          <input
            type="radio"
            name={`${id}-pause`}
            checked={f.pause === "duration"}
            onChange={() => draft.set({ pause: "duration" })}
          />
          wait
        </label>
        {f.pause === "duration" ? (
          <label className="flex items-center gap-1.5">
            <input
              aria-label="Seconds between waves"
              value={f.seconds}
              onChange={(e) => draft.set({ seconds: e.target.value })}
              className={`${input} w-20`}
            />
            seconds
          </label>
        ) : null}
      </div>
      <p className="text-xs text-zinc-600 sm:col-span-2 dark:text-zinc-400">
        A node of a released wave that fails to apply, goes offline right after applying, or drifts
        pauses the rollout. Nodes not reached keep the previous revision.
      </p>
    </div>
  );
}
