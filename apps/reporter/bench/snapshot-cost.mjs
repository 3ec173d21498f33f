// The snapshot-cost worker in plain JavaScript over the built packages (dist/), so the measured
// process is the size of the shipped reporter, not of a TypeScript loader. Run inside a
// namespace by read.bench.ts: `ip netns exec NS node snapshot-cost.mjs ROUNDS`, or from the host
// through the reporter's `--netns` wrapping: `node snapshot-cost.mjs ROUNDS NS`; prints JSON.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import {
  assessLinux,
  chainLines,
  DEFAULT_FLAGS,
  defaultConfig,
  encodeMessage,
  PROTOCOL_VERSION,
} from "../../../packages/shared/dist/index.js";
import { createIptablesBackend } from "../dist/backend/iptables.js";
import { exec } from "../dist/exec.js";

const TICK_MS = 10;
function cpuNow() {
  const text = readFileSync("/proc/self/stat", "utf8");
  const f = text
    .slice(text.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
  return (f[11] + f[12] + f[13] + f[14]) * TICK_MS;
}

const backend = createIptablesBackend({ netns: process.argv[3], flags: DEFAULT_FLAGS });
const config = defaultConfig();
let seq = 0;
let chains = [];
async function snapshot() {
  const snaps = await backend.read();
  if (snaps[0]?.readError || !chainLines(snaps[0], DEFAULT_FLAGS.masqChain))
    throw new Error(`read failed: ${snaps[0]?.readError}`);
  chains = snaps[0].chains.map((c) => c.name);
  const report = assessLinux(config, DEFAULT_FLAGS, snaps).report;
  if (report.differences.some((d) => d.severity === "critical"))
    throw new Error(`unexpected drift: ${report.summary}`);
  encodeMessage({
    type: "snapshot",
    v: PROTOCOL_VERSION,
    seq: seq++,
    takenAt: Date.now(),
    linux: snaps,
    appliedRevision: 1,
  });
}

const rounds = Number(process.argv[2] ?? 60);
// The first read detects the backends (once, then every 5 min) and walks the path level by level.
const c00 = cpuNow();
await snapshot();
const firstCpuMs = cpuNow() - c00;
for (let i = 0; i < 5; i++) await snapshot();
const walls = [];
const c0 = cpuNow();
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  await snapshot();
  walls.push(performance.now() - t0);
}
const cpuMs = (cpuNow() - c0) / rounds;
walls.sort((a, b) => a - b);
// For comparison: the same chains, one `iptables -S` process each.
const c1 = cpuNow();
for (let i = 0; i < rounds; i++)
  await Promise.all(
    chains.map((c) => exec(["iptables", "-w", "-t", "nat", "-S", c], { netns: process.argv[3] })),
  );
const perChainCpuMs = (cpuNow() - c1) / rounds;
const pct = (p) => walls[Math.min(walls.length - 1, Math.ceil((p / 100) * walls.length) - 1)];
console.log(
  JSON.stringify({
    cpuMs,
    p50: pct(50),
    p99: pct(99),
    rssMb: process.memoryUsage().rss / 2 ** 20,
    chains: chains.length,
    firstCpuMs,
    perChainCpuMs,
  }),
);
