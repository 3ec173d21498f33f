// Issue 17: when a kube-proxy or CNI upgrade rewrites a shared chain, every node sends its rules
// whole with their digests beside them, at once. The dashboard reads those frames with a
// hand-written guard (protocol-guards.ts) instead of zod; this measures what that buys per frame,
// for the per-node rule shapes of real fleets (own-rules-nodes.ts), as the dashboard meets them:
// a JSON-parsed frame, then the guard, or zod's safeParse of the same value.
import { createHash } from "node:crypto";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { OWN_RULE_KINDS, ownRulesSnapshot } from "@masq/testkit/own-rules-nodes";
import type { BenchResult } from "../../../bench/types.js";
import { chainDigest, defaultConfig, linuxChainDigests } from "../src/index.js";
import { reporterMessageSchema } from "../src/protocol.js";
import { guardReporterMessage } from "../src/protocol-guards.js";
import { median } from "./kube-dump.js";

const FRAMES = 2_000;
const sha256 = (t: string) => createHash("sha256").update(t).digest("hex");

/** Node i's snapshot frame, whole with per-chain digests, parsed as the gateway parses it. */
function frames(): unknown[] {
  const config = defaultConfig();
  return Array.from({ length: FRAMES }, (_, i) => {
    const linux = [ownRulesSnapshot(OWN_RULE_KINDS[i % OWN_RULE_KINDS.length]!, i, config)];
    const frame = {
      type: "snapshot",
      v: 2,
      seq: i,
      takenAt: 1_700_000_000_000 + i,
      linux,
      linuxChains: linuxChainDigests(linux, (c) => chainDigest(c, sha256)),
      appliedRevision: 3,
    };
    return JSON.parse(JSON.stringify(frame));
  });
}

/** µs per frame for one pass of `read` over every frame (each must be accepted). */
function pass(values: unknown[], read: (v: unknown) => unknown): number {
  const t0 = performance.now();
  for (const v of values) if (read(v) === undefined) throw new Error("a frame was refused");
  return ((performance.now() - t0) * 1000) / values.length;
}

export default async function guardBench(): Promise<BenchResult[]> {
  const values = frames();
  const guard = (v: unknown) => guardReporterMessage(v);
  const zod = (v: unknown) => {
    const r = reporterMessageSchema.safeParse(v);
    return r.success ? r.data : undefined;
  };
  // Warm-up (JIT).
  for (let i = 0; i < 3; i++) {
    pass(values, guard);
    pass(values, zod);
  }
  const rounds = Array.from({ length: 7 }, () => [pass(values, guard), pass(values, zod)]);
  const g = median(rounds.map((r) => r[0]!));
  const z = median(rounds.map((r) => r[1]!));
  return [
    {
      id: "guard-whole-snapshot",
      issue: 17,
      name: "read a snapshot sent whole with per-chain digests: hand-written guard",
      value: Number(g.toFixed(2)),
      unit: "µs/frame",
      notes: `zod safeParse of the same frames: ${z.toFixed(2)} µs (${(z / g).toFixed(1)}× the guard); median of 7 passes over ${FRAMES} parsed frames (flannel, old flannel, AWS VPC CNI, Cilium nodes' own rules beside kube-proxy's and the agent's chains) after 3 warm-ups; excludes JSON.parse and the digest checks that follow; load average ${loadavg()[0]!.toFixed(1)} when run`,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await guardBench(), null, 2));
