// Measures what one snapshot costs the reporter: both `-S` reads, drift assessment and the
// encoded message (snapshot-cost.mjs does the same inside a namespace, over the built code).
import { performance } from "node:perf_hooks";
import {
  type AgentFlags,
  assessLinux,
  DEFAULT_FLAGS,
  defaultConfig,
  encodeMessage,
  type MasqConfig,
} from "@masq/shared";
import { createIptablesBackend } from "../src/backend/iptables.js";
import type { LinuxBackend } from "../src/backend/types.js";
import { percentile, readProcStat } from "./kube-nat.js";

export interface Cost {
  /** Mean CPU ms per call: this process plus its reaped children (iptables). */
  cpuMs: number;
  p50: number;
  p99: number;
}

const cpuNow = () => {
  const s = readProcStat("self");
  return s.self + s.children;
};

export async function measure(rounds: number, f: () => Promise<unknown> | unknown): Promise<Cost> {
  const walls: number[] = [];
  const c0 = cpuNow();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await f();
    walls.push(performance.now() - t0);
  }
  return {
    cpuMs: (cpuNow() - c0) / rounds,
    p50: percentile(walls, 50),
    p99: percentile(walls, 99),
  };
}

export function snapshotTask(
  backend: LinuxBackend,
  config: MasqConfig,
  flags: AgentFlags,
): () => Promise<void> {
  let seq = 0;
  return async () => {
    const snaps = await backend.read();
    if (snaps[0]?.readError || !snaps[0]?.chain)
      throw new Error(`read failed: ${snaps[0]?.readError}`);
    const report = assessLinux(config, flags, snaps).report;
    if (report.status !== "in-sync") throw new Error(`unexpected drift: ${report.summary}`);
    encodeMessage({
      type: "snapshot",
      v: 1,
      seq: seq++,
      takenAt: Date.now(),
      linux: snaps,
      appliedGeneration: 1,
    });
  };
}

export async function snapshotCost(rounds: number, netns?: string): Promise<Cost> {
  const backend = createIptablesBackend({ netns, flags: DEFAULT_FLAGS });
  const task = snapshotTask(backend, defaultConfig(), DEFAULT_FLAGS);
  await measure(5, task); // warm-up (JIT, page cache)
  return measure(rounds, task);
}
