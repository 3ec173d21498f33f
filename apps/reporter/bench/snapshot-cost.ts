// CPU and wall time of a repeated task, this process plus its reaped children. The snapshot
// itself is measured by snapshot-cost.mjs over the built code (see read.bench.ts).
import { performance } from "node:perf_hooks";
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
