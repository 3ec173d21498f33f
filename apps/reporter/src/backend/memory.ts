// An in-memory node (POSTROUTING and the agent chain of one nf_tables backend): the same
// planning as the real backend, with the apply payload parsed by the shared parser into a
// simulated chain. Used by unit tests and by the dashboard fleet benchmark
// (thousands of simulated reporters in one process), so it does no I/O and little work.
import { release } from "node:os";
import {
  type AgentFlags,
  type ApplyTrigger,
  type Family,
  type FamilySnapshot,
  familiesFor,
  type MasqConfig,
  NAT_TABLE,
  POSTROUTING,
  parseIptables,
  renderApplyPayload,
  snapshotOf,
} from "@masq/shared";
import { refusal } from "../config-check.js";
import { planWrite } from "./plan.js";
import type { ApplyOutcome, BackendInfo, ChangeSource, LinuxBackend, Watch } from "./types.js";

export interface SimulatedFamily {
  /** `-S CHAIN` lines (starting with `-N CHAIN`), or null when the chain does not exist. */
  chain: string[] | null;
  /** `-S POSTROUTING` lines (starting with `-P POSTROUTING ACCEPT`). */
  postrouting: string[];
}

export interface MemoryBackendOptions {
  flags: AgentFlags;
  initial?: Partial<Record<Family, Partial<SimulatedFamily>>>;
  info?: Partial<BackendInfo>;
  /** Return an error text to make the next applies fail like a broken iptables-restore. */
  failApply?: (config: MasqConfig, trigger: ApplyTrigger) => string | undefined;
}

export interface MemoryBackend extends LinuxBackend {
  state(family?: Family): SimulatedFamily;
  /** Simulates someone else editing the node; watchers are told. */
  edit(family: Family, change: (s: SimulatedFamily) => void): void;
  /** Number of transactions written so far. */
  writes(): number;
}

const POLICY = `-P ${POSTROUTING} ACCEPT`;

/** Applies an `iptables-restore --noflush` payload of renderApplyPayload to a simulated family. */
export function applyPayloadTo(s: SimulatedFamily, chain: string, payload: string): void {
  const lines = payload.split("\n");
  for (const l of lines) {
    if (!l.startsWith(`-D ${POSTROUTING} `)) continue;
    const i = s.postrouting.indexOf(`-A ${POSTROUTING} ${l.slice(POSTROUTING.length + 4)}`);
    if (i < 0)
      throw new Error(
        `iptables-restore: ${l}: Bad rule (does a matching rule exist in that chain?)`,
      );
    s.postrouting.splice(i, 1);
  }
  const nat = parseIptables(
    lines.filter((l) => !l.startsWith("-D ")).join("\n"),
  ).ruleset.tables.get(NAT_TABLE);
  s.chain = [`-N ${chain}`, ...(nat?.get(chain)?.rules ?? []).map((r) => r.text)];
  s.postrouting.push(...(nat?.get(POSTROUTING)?.rules ?? []).map((r) => r.text));
}

/** The simulated node's families as `initial` has them (else no chain, an empty POSTROUTING). */
function initialNodes(opts: MemoryBackendOptions, families: readonly Family[]) {
  return new Map<Family, SimulatedFamily>(
    families.map((f) => [
      f,
      {
        chain: opts.initial?.[f]?.chain ?? null,
        postrouting: opts.initial?.[f]?.postrouting ?? [POLICY],
      },
    ]),
  );
}

/** What the simulated node says of itself: an nf_tables-era iptables unless `info` says else. */
function memoryInfo(opts: MemoryBackendOptions): BackendInfo {
  return {
    backend: "memory",
    iptablesVersion: "v1.8.9",
    randomFullySupported: true,
    kernel: release(),
    monitor: true,
    warnings: [],
    ...opts.info,
  };
}

export function createMemoryBackend(opts: MemoryBackendOptions): MemoryBackend {
  const flags = opts.flags;
  const chain = flags.masqChain;
  const families = familiesFor(flags);
  const nodes = initialNodes(opts, families);
  const listeners = new Set<(source: ChangeSource) => void>();
  const info = memoryInfo(opts);
  const effective: AgentFlags = {
    ...flags,
    randomFully: flags.randomFully && info.randomFullySupported,
  };
  let writes = 0;

  const node = (f: Family): SimulatedFamily => {
    const s = nodes.get(f) ?? { chain: null, postrouting: [POLICY] };
    nodes.set(f, s);
    return s;
  };
  const snapshot = (f: Family): FamilySnapshot => {
    const s = node(f);
    return snapshotOf({
      family: f,
      chain: s.chain ? [...s.chain] : null,
      postrouting: [...s.postrouting],
      masqChain: chain,
    });
  };
  const read = () => families.map(snapshot);
  const notify = () => {
    for (const l of listeners) queueMicrotask(() => l("event"));
  };

  function apply(config: MasqConfig, trigger: ApplyTrigger): ApplyOutcome {
    const t0 = performance.now();
    const error = refusal(config, effective) ?? opts.failApply?.(config, trigger);
    if (error)
      return {
        ok: false,
        changed: false,
        rolledBack: false,
        error,
        durationMs: performance.now() - t0,
        snapshots: [],
      };
    let changed = false;
    for (const before of read()) {
      const plan = planWrite(config, effective, before);
      if (!plan) continue;
      const payload = renderApplyPayload(config, effective, before.family, plan);
      applyPayloadTo(node(before.family), chain, payload);
      writes++;
      changed = true;
    }
    if (changed) notify();
    return {
      ok: true,
      changed,
      rolledBack: false,
      durationMs: performance.now() - t0,
      snapshots: read(),
    };
  }

  return {
    info: async () => ({ ...info, warnings: [...info.warnings] }),
    effectiveFlags: async () => effective,
    read: async () => read(),
    apply: async (config, trigger) => apply(config, trigger),
    watch(onChange): Watch {
      listeners.add(onChange);
      return { close: () => listeners.delete(onChange) };
    },
    state: (f = "ipv4") => snapshotState(node(f)),
    edit(f, change) {
      change(node(f));
      notify();
    },
    writes: () => writes,
  };
}

function snapshotState(s: SimulatedFamily): SimulatedFamily {
  return { chain: s.chain ? [...s.chain] : null, postrouting: [...s.postrouting] };
}
