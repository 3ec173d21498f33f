// Simulated reporters for the fleet benchmark, in their own process (the bench runs two, so
// they use both cores). Each node is the real reporter link (apps/reporter createLink) over
// the real in-memory backend (createMemoryBackend; identical applies computed once per process,
// apply-memo.ts): desired → backend.apply → apply-result
// (+ snapshot when the rules changed), resync likewise, hand edits → snapshot. With
// FLEET_BENCH_AGENT=1 each node is instead the whole reporter agent (enforcer included).
// IPC: {start: {url, secret, from, count, localAddress}} → {ready}; {applied: G} → {count};
// {edit: k}; {links: true} → the links' {connects, disconnects, maxSilentMs}; "stop".
// FLEET_BENCH_PINGS=0: links that never ping (liveness.bench.ts compares).
// FLEET_BENCH_PER_NODE=1: each node's POSTROUTING carries its own line, as flannel writes one
// for the node's pod /24 (so no two nodes' rules are equal; the agent chain still is). Each process connects from its own loopback address, so 30,000
// connections to one port do not run out of ephemeral ports (~28,000 per source address).
import { createAgent } from "@masq/reporter/agent";
import { createMemoryBackend, type MemoryBackend } from "@masq/reporter/backend/memory";
import { createLink, type Link, type LinkStats } from "@masq/reporter/link";
import {
  APPLY_RESULT_SNAPSHOT,
  type Capability,
  type DashboardMessage,
  DEFAULT_FLAGS,
  type FamilySnapshot,
  type MasqConfig,
  PROTOCOL_VERSION,
  SNAPSHOT_DIGESTS,
} from "@masq/shared";
import { nodeToken } from "@masq/shared/node-token";
import { helloFor } from "@masq/testkit/fixtures";
import { memoApply } from "./apply-memo.js";
import { ownLine } from "./own-line.js";

interface SimNode {
  backend: MemoryBackend;
  applied: () => number | null;
  /** Epoch ms when the newest desired frame arrived and when it was applied (null: not yet). */
  times?: () => { revision: number | null; desiredAt: number; appliedAt: number | null };
  report: () => Promise<void>;
  stop: () => Promise<void>;
  stats?: () => LinkStats;
}

/** Links that never ping and never judge silence (FLEET_BENCH_PINGS=0). */
const NO_PINGS = { pingIdleMs: 1e9, deadAfterMs: 1e9 };

/**
 * Applies waiting in this process, run at most APPLY_CHUNK per event-loop turn. Without it, a
 * push reaching thousands of this process's nodes at once is one loop turn of seconds (or, on
 * a starved shared machine, minutes) in which no heartbeat timer fires: the dashboards then
 * drop the silent nodes, an artifact of simulating many reporters in one process (each real
 * reporter applies its one node's rules).
 */
const applies: (() => Promise<void>)[] = [];
const APPLY_CHUNK = 100;
let draining = false;

function enqueueApply(work: () => Promise<void>): void {
  applies.push(work);
  if (!draining) {
    draining = true;
    setImmediate(drainApplies);
  }
}

function drainApplies(): void {
  for (const work of applies.splice(0, APPLY_CHUNK)) void work();
  if (applies.length > 0) setImmediate(drainApplies);
  else draining = false;
}

/** The loopback address this process's connections come from. */
let localAddress: string | undefined;

/**
 * What the simulated reporters offer (FLEET_BENCH_DIGESTS): every capability (default; a
 * dashboard grants chain-digests), `part` as the last release (snapshot-digests: the whole
 * `linux` part by one digest), `0` nothing (whole snapshots, results apart, as the release
 * before sends them), to compare.
 */
function offered(): boolean | Capability[] {
  const d = process.env.FLEET_BENCH_DIGESTS;
  if (d === "0") return false;
  return d === "part" ? [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT] : true;
}

function linkNode(url: string, token: string, name: string): Promise<SimNode> {
  const own = ownLine(name);
  const backend = createMemoryBackend({
    flags: DEFAULT_FLAGS,
    ...(own ? { initial: { ipv4: { postrouting: ["-P POSTROUTING ACCEPT", own] } } } : {}),
  });
  let applied: number | null = null;
  let last: MasqConfig | undefined;
  let seq = 0;
  let link: Link | undefined;
  const times = { revision: null as number | null, desiredAt: 0, appliedAt: null as number | null };
  const send = (linux: FamilySnapshot[]) =>
    link?.send({
      type: "snapshot",
      v: PROTOCOL_VERSION,
      seq: seq++,
      takenAt: Date.now(),
      linux,
      appliedRevision: applied,
    });
  const report = async () => {
    send(await backend.read());
  };
  const apply = async (
    config: MasqConfig,
    revision: number | null,
    trigger: "desired" | "resync",
  ) => {
    const out = await memoApply(backend, config, trigger, own);
    if (out.ok && revision !== null) applied = revision;
    if (out.ok && trigger === "desired" && revision === times.revision)
      times.appliedAt = Date.now();
    // As the reporter agent does: the rules it wrote (read back by the apply), then the result.
    if (out.changed && Array.isArray(out.snapshots)) send(out.snapshots);
    link?.send({
      type: "apply-result",
      v: PROTOCOL_VERSION,
      revision,
      ok: out.ok,
      ...(out.error ? { error: out.error } : {}),
      durationMs: out.durationMs,
      trigger,
      changed: out.changed,
    });
  };
  return new Promise((resolve) => {
    link = createLink({
      url,
      token,
      // A load generator: the dashboard validates every frame itself.
      validateOutgoing: false,
      offerCapabilities: offered(),
      ...(process.env.FLEET_BENCH_PINGS === "0" ? { liveness: NO_PINGS } : {}),
      ...(localAddress ? { ws: { localAddress } } : {}),
      hello: () => helloFor(name, { appliedRevision: applied }),
      onOpen: () => void report(),
      onMessage: (m: DashboardMessage) => {
        if (m.type === "welcome")
          resolve({
            backend,
            applied: () => applied,
            times: () => times,
            report,
            stop: () => link!.close(),
            stats: () => link!.stats(),
          });
        if (m.type === "desired") {
          last = m.config;
          Object.assign(times, { revision: m.revision, desiredAt: Date.now(), appliedAt: null });
          const { config, revision } = m;
          enqueueApply(() => apply(config, revision, "desired"));
        }
        if (m.type === "resync" && last) {
          const config = last;
          enqueueApply(() => apply(config, applied, "resync"));
        }
      },
    });
  });
}

async function agentNode(url: string, token: string, name: string): Promise<SimNode> {
  const backend = createMemoryBackend({ flags: DEFAULT_FLAGS });
  const agent = createAgent({ nodeName: name, backend, dashboard: { url, token } });
  await agent.start();
  return {
    backend,
    applied: () => agent.status().appliedRevision,
    report: async () => {},
    stop: () => agent.stop(),
  };
}

const nodes: SimNode[] = [];
let next = 0;

// The benchmark that forked this process is gone (killed, crashed): so is this load.
process.on("disconnect", () => process.exit(0));

process.on(
  "message",
  async (
    m:
      | {
          /** `secret`: the dashboard's reporter secret; each node gets its own token from it. */
          start?: {
            url: string;
            secret: string;
            from: number;
            count: number;
            localAddress?: string;
          };
          applied?: number;
          /** When revision `timing` reached and was applied by this process's nodes. */
          timing?: number;
          edit?: number;
          links?: true;
        }
      | "stop",
  ) => {
    if (m === "stop") {
      await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
      process.exit(0);
    }
    if (m.start) {
      const { url, secret, from, count } = m.start;
      localAddress = m.start.localAddress;
      const make = process.env.FLEET_BENCH_AGENT === "1" ? agentNode : linkNode;
      for (let i = 0; i < count; i += 250) {
        const batch = Array.from({ length: Math.min(250, count - i) }, (_, j) => {
          const name = `node-${String(from + i + j).padStart(5, "0")}`;
          return make(url, nodeToken(secret, name), name);
        });
        nodes.push(...(await Promise.all(batch)));
      }
      process.send?.({ ready: nodes.length });
    } else if (m.applied !== undefined) {
      process.send?.({ count: nodes.filter((n) => n.applied() === m.applied).length });
    } else if (m.links) {
      const stats = nodes.flatMap((n) => (n.stats ? [n.stats()] : []));
      process.send?.({
        connects: stats.reduce((a, x) => a + x.connects, 0),
        disconnects: stats.reduce((a, x) => a + x.disconnects, 0),
        maxSilentMs: Math.max(0, ...stats.map((x) => x.maxSilentMs)),
      });
    } else if (m.timing !== undefined) {
      process.send?.(timing(m.timing));
    } else if (m.edit !== undefined) {
      // Someone edits the chain by hand on k nodes: drop one RETURN rule, report it.
      for (let j = 0; j < m.edit; j++) {
        const n = nodes[next++ % nodes.length]!;
        n.backend.edit("ipv4", (s) => {
          s.chain = s.chain?.filter((l) => !l.includes("192.168.0.0/16")) ?? null;
        });
        void n.report();
      }
    }
  },
);

/**
 * When revision `revision`'s desired frame reached this process's nodes (the first arrival)
 * and when the last of them applied it, epoch ms; over the nodes that applied it.
 */
function timing(revision: number): { nodes: number; firstDesired: number; lastApplied: number } {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let n = 0;
  for (const node of nodes) {
    const t = node.times?.();
    if (!t || t.revision !== revision || t.appliedAt === null) continue;
    n++;
    first = Math.min(first, t.desiredAt);
    last = Math.max(last, t.appliedAt);
  }
  return { nodes: n, firstDesired: n ? first : Number.NaN, lastApplied: n ? last : Number.NaN };
}
