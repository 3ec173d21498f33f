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

const keyOf = (backend: MemoryBackend, config: MasqConfig, trigger: Trigger) =>
  JSON.stringify([trigger, config, families.map((f) => backend.state(f))]);

/** `backend.apply(config, trigger)`, or what it returned for the same rules and config. */
export async function memoApply(
  backend: MemoryBackend,
  config: MasqConfig,
  trigger: Trigger,
): Promise<ApplyOutcome> {
  const key = keyOf(backend, config, trigger);
  const seen = memo.get(key);
  if (seen) {
    families.forEach((f, i) => {
      backend.edit(f, (s) => Object.assign(s, structuredClone(seen.after[i]!)));
    });
    return { ...seen.outcome, durationMs: 0 };
  }
  const outcome = await backend.apply(config, trigger);
  if (memo.size >= LIMIT) memo.delete(memo.keys().next().value as string);
  memo.set(key, { outcome, after: families.map((f) => backend.state(f)) });
  return outcome;
}
