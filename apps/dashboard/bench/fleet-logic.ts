// The dashboard's own work per node for one push and its acknowledgements, without sockets
// (run by fleet-logic.bench.ts in its own process): the real fleet state, the real reporter
// frame decoder and the browsers' coalesced updates serialized as the server publishes them,
// fed the frames N reporters send (the real memory backend's snapshots, encoded before the
// measured window). What the fleet benchmark measures beside it is this plus the WebSocket
// and TCP work and the garbage of a process holding N sockets.
// Each reply is one frame, as a reporter of this release sends it to this dashboard (granted
// chain-digests and apply-result-snapshot): the apply-result carrying its snapshot with each
// chain by digest, taken by the gateway's own delivery (inbound.ts) with the agent chains it
// renders; a digest not held brings the rules whole as the answer to the request.
// FLEET_LOGIC_DIGESTS=part: the whole part by one digest (the last release's dashboard);
// =0: the snapshot whole and the result, two frames (the previous release).
// FLEET_BENCH_PER_NODE=1: each node's POSTROUTING carries its own line (own-line.ts), so no
// two nodes' rules are equal and each is judged on its own.
// FLEET_LOGIC_REPLY_MS=T: the replies come T ms after the last desired frame (real reporters
// apply for ~0.1 s or more; the dashboard's post-push work runs meanwhile, measured too).
// IPC: answers {rounds: [µs per node, …], heapBytesPerNode} (printed when run by hand).
import { sha256 } from "@masq/node-util";
import { createMemoryBackend } from "@masq/reporter/backend/memory";
import {
  type ApplyResult,
  chainDigest,
  createReporterDecoder,
  DEFAULT_FLAGS,
  DesiredChains,
  defaultConfig,
  encodeMessage,
  type FamilySnapshot,
  linuxChainDigests,
  linuxRulesDigest,
  type MasqConfig,
  PROTOCOL_VERSION,
  type ReporterMessage,
  ValidatedRules,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import type { Desired } from "../src/server/config/merged-desired.js";
import { ChangeFeed } from "../src/server/fleet/change-feed.js";
import { FleetState } from "../src/server/fleet/fleet-state.js";
import { toSummary } from "../src/server/fleet/node.js";
import { inboundDelivery } from "../src/server/gateway/inbound.js";
import { type DigestMode, SnapshotDigests } from "../src/server/gateway/snapshot-digests.js";
import { silentLogger } from "../src/server/log.js";
import { createMetrics } from "../src/server/metrics.js";
import { ownLine, PER_NODE } from "./own-line.js";

const N = Number(process.env.FLEET_LOGIC_NODES ?? 5000);
const ROUNDS = 8;
const REPLY_MS = Number(process.env.FLEET_LOGIC_REPLY_MS ?? 0);
const tick = () => new Promise((r) => setImmediate(r));
const frame = (m: ReporterMessage) => Buffer.from(encodeMessage(m));

let desired: Desired | null = null;
const feed = new ChangeFeed(250);
const fleet = new FleetState({
  desired: () => desired,
  feed,
  log: silentLogger(),
  heartbeatMs: 10_000,
  applyTimeoutMs: 30_000,
});
// As http-server.ts publishes: changed nodes' summaries, the counts, the rollout.
feed.onFlush((c) => {
  const nodes = c.changed.flatMap((name) => {
    const n = fleet.nodes.get(name);
    return n ? [toSummary(n)] : [];
  });
  JSON.stringify({ nodes, removed: c.removed, summary: fleet.countByStatus() });
  if (c.rollout) JSON.stringify(fleet.rolloutView());
});
const decoders = new Map<string, ReturnType<typeof createReporterDecoder>>();
/** As the gateway holds it: one for every connection. */
const validatedRules = new ValidatedRules<FamilySnapshot[]>();
const pushed: string[] = [];

/** What the handshake granted: per chain (this release), the whole part, or none. */
const MODE: DigestMode = ((m) => (m === "0" ? "none" : m === "part" ? "part" : "chains"))(
  process.env.FLEET_LOGIC_DIGESTS,
);
const DIGESTS = MODE !== "none";
/** As the gateway holds them: rules by digest for all, each connection's delivery. */
const digests = new SnapshotDigests();
const desiredChains = new DesiredChains();
const metrics = createMetrics({ defaultMetrics: false });
const inbound = new Map<string, (name: string, msg: ReporterMessage) => void>();
/** Nodes the dashboard asked for their rules whole (a `snapshot-request`). */
const asked = new Set<string>();

function connectInbound(name: string): void {
  const deliver = inboundDelivery({
    fleet,
    metrics,
    link: { send: () => asked.add(name), close: () => {} },
    granted: { digests: digests.session(MODE), fold: DIGESTS },
    desiredChains,
    reject: (reason) => {
      throw new Error(reason);
    },
    isOpen: () => true,
  });
  inbound.set(name, deliver);
}

/** One frame as the gateway takes it; `whole`: the reporter's answer when asked for its rules. */
function deliver(name: string, bytes: Buffer, whole?: Buffer): void {
  const d = decoders.get(name)!.decode(bytes);
  if (!d.ok) throw new Error(d.reason);
  inbound.get(name)!(name, d.msg);
  if (!asked.delete(name) || !whole) return;
  deliver(name, whole);
}

/** Node `name`'s rules after applying `config`. */
async function rulesOf(config: MasqConfig, name: string): Promise<FamilySnapshot[]> {
  const own = ownLine(name);
  const backend = createMemoryBackend({
    flags: DEFAULT_FLAGS,
    ...(own ? { initial: { ipv4: { postrouting: ["-P POSTROUTING ACCEPT", own] } } } : {}),
  });
  await backend.apply(config, "desired");
  return backend.read();
}

/** Every node's rules after applying `config` (one array for all unless per node). */
async function rulesFor(config: MasqConfig): Promise<(name: string) => FamilySnapshot[]> {
  if (!PER_NODE) {
    const linux = await rulesOf(config, "node-00000");
    return () => linux;
  }
  const byNode = new Map<string, FamilySnapshot[]>();
  for (let i = 0; i < N; i++) byNode.set(nameOf(i), await rulesOf(config, nameOf(i)));
  return (name) => byNode.get(name)!;
}

const nameOf = (i: number) => `node-${String(i).padStart(5, "0")}`;

/**
 * What each reporter sends after applying `revision`: with digests, the result carrying its
 * snapshot by digest (and the whole snapshot, its answer if asked); without, the snapshot
 * whole, then the result.
 */
function replies(linuxOf: (name: string) => FamilySnapshot[], revision: number): Buffer[][] {
  return pushed.map((name, i) => {
    const linux = linuxOf(name);
    const byDigests =
      MODE === "chains"
        ? { linuxChains: linuxChainDigests(linux, (c) => chainDigest(c, (t) => sha256(t))) }
        : { linuxDigest: linuxRulesDigest(linux, (t) => sha256(t)) };
    // A reporter's seq only goes up (the dashboard does not judge an older one): one per push.
    const snap = { type: "snapshot", v: PROTOCOL_VERSION, seq: revision, takenAt: i } as const;
    const result = applyResult(i, revision);
    const whole = { ...snap, linux, appliedRevision: revision };
    if (!DIGESTS) return [frame(whole), frame(result)];
    const byDigest = { ...snap, ...byDigests, appliedRevision: revision };
    return [frame({ ...result, snapshot: byDigest }), frame({ ...whole, ...byDigests })];
  });
}

function applyResult(i: number, revision: number): ApplyResult {
  return {
    type: "apply-result",
    v: PROTOCOL_VERSION,
    revision,
    ok: true,
    durationMs: 3 + (i % 7),
    trigger: "desired",
    changed: true,
  };
}

async function connectAll(config: MasqConfig): Promise<void> {
  desired = { revision: 1, resourceVersion: "1", config };
  const linuxOf = await rulesFor(config);
  for (let i = 0; i < N; i++) {
    const name = nameOf(i);
    const decoder = createReporterDecoder({ validatedRules });
    decoders.set(name, decoder);
    connectInbound(name);
    const hello = helloFor(name, { appliedRevision: 1 });
    decoder.decode(frame(hello));
    fleet.connect(hello, { send: () => pushed.push(name), close: () => {} });
    deliver(
      name,
      frame({
        type: "snapshot",
        v: PROTOCOL_VERSION,
        seq: 0,
        takenAt: 0,
        linux: linuxOf(name),
        appliedRevision: 1,
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 500));
}

/** One push and every node's acknowledgement: the dashboard's CPU, µs per node. */
async function pushOnce(
  revision: number,
  config: MasqConfig,
  linuxOf: (name: string) => FamilySnapshot[],
): Promise<number> {
  pushed.length = 0;
  const c0 = process.cpuUsage();
  desired = { revision, resourceVersion: String(revision), config, author: "bench" };
  fleet.desiredChanged(desired);
  while (pushed.length < N) await tick();
  if (REPLY_MS > 0) await new Promise((r) => setTimeout(r, REPLY_MS));
  const c1 = process.cpuUsage(c0);
  const frames = replies(linuxOf, revision); // the reporters' work: not measured
  const c2 = process.cpuUsage();
  for (const [i, name] of pushed.entries()) {
    const [first, second] = frames[i]!;
    if (DIGESTS) deliver(name, first!, second);
    else for (const f of [first!, second!]) deliver(name, f);
    if (i % 500 === 499) await tick();
  }
  await new Promise((r) => setTimeout(r, 600)); // re-judging slices and the last SSE flush
  const c3 = process.cpuUsage(c2);
  const view = fleet.rolloutView();
  if (view?.done !== N) throw new Error(`rollout ${revision}: ${view?.done}/${N} done`);
  return (c1.user + c1.system + c3.user + c3.system) / N;
}

const before = defaultConfig();
const after = { ...before, nonMasqueradeCIDRs: [...before.nonMasqueradeCIDRs, "100.64.0.0/16"] };
globalThis.gc?.();
const heap0 = process.memoryUsage().heapUsed;
await connectAll(before);
const rules = [await rulesFor(before), await rulesFor(after)];
const rounds: number[] = [];
for (let k = 0; k < ROUNDS; k++)
  rounds.push(
    Math.round(10 * (await pushOnce(2 + k, k % 2 ? before : after, rules[(k + 1) % 2]!))) / 10,
  );
globalThis.gc?.();
const result = { rounds, heapBytesPerNode: (process.memoryUsage().heapUsed - heap0) / N };
if (process.send) process.send(result);
else console.log(result); // run by hand

process.exit(0);
