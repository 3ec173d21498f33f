// Applies of the fleet benchmark's simulated reporters, computed once per distinct (rules the
// node has, config, trigger) in a reporter process. Thousands of simulated nodes share a
// process and almost all apply the same config to the same rules, so the real planning
// (assessment, plan, render, parse back: ~1 ms each) ran thousands of times per push for one
// answer, and that CPU, taken from the dashboards sharing the 2 cores, is what a cluster does
// not have (each reporter has its node's CPU). The dashboard under test receives exactly the
// frames it did: the node's rules after the apply are the same, the snapshot is the same.

import type { MemoryBackend, SimulatedFamily } from "@masq/reporter/backend/memory";
import type { MasqConfig } from "@masq/shared";
import { DEFAULT_FLAGS, familiesFor } from "@masq/shared";

type ApplyOutcome = Awaited<ReturnType<MemoryBackend["apply"]>>;

type Trigger = "desired" | "resync";

interface Remembered {
  outcome: ApplyOutcome;
  after: SimulatedFamily[];
}

/** Distinct applies kept (a handful in a run: one per config and starting rules). */
const LIMIT = 64;
const memo = new Map<string, Remembered>();
const families = familiesFor(DEFAULT_FLAGS);

/** Stands for a node's own POSTROUTING line (per-node chains) in what is remembered. */
const OWN = "<the node's own line>";

/** `s` with the node's own line `own` replaced by OWN (`back`: the other way). */
function masked(s: SimulatedFamily, own: string | undefined, back = false): SimulatedFamily {
  if (own === undefined) return s;
  const [from, to] = back ? [OWN, own] : [own, OWN];
  return { ...s, postrouting: s.postrouting.map((l) => (l === from ? to : l)) };
}

const keyOf = (backend: MemoryBackend, config: MasqConfig, trigger: Trigger, own?: string) =>
  JSON.stringify([trigger, config, families.map((f) => masked(backend.state(f), own))]);

/**
 * `backend.apply(config, trigger)`, or what it returned for the same rules and config. `own`:
 * the node's own POSTROUTING line (a per-node chain, as flannel writes), which the apply leaves
 * alone: nodes differing only in it share one apply, and each reports its own rules after it.
 */
export async function memoApply(
  backend: MemoryBackend,
  config: MasqConfig,
  trigger: Trigger,
  own?: string,
): Promise<ApplyOutcome> {
  const key = keyOf(backend, config, trigger, own);
  const seen = memo.get(key);
  if (seen) {
    families.forEach((f, i) => {
      const after = masked(seen.after[i]!, own, true);
      backend.edit(f, (s) => Object.assign(s, structuredClone(after)));
    });
    const snapshots = own === undefined ? seen.outcome.snapshots : await backend.read();
    return { ...seen.outcome, snapshots, durationMs: 0 };
  }
  const outcome = await backend.apply(config, trigger);
  if (memo.size >= LIMIT) memo.delete(memo.keys().next().value as string);
  memo.set(key, { outcome, after: families.map((f) => masked(backend.state(f), own)) });
  return outcome;
}
