// Issue 12.3: what one viewer's config requests cost the dashboard (own process, file store, no
// reporters). POST /api/config/validate with the most CIDRs a 64 KiB body holds (5,900, refused:
// more than nodes take) and with 4,096 (the most nodes take: parsed, judged, diffed, impact);
// nine of them at once while /healthz is polled; GET /api/history after large revisions.
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type { BenchResult } from "../../../bench/types.js";
import { Dashboard } from "./dashboard-process.js";

const ROUNDS = 10;
const BURSTS = 3;

/** `n` distinct single-digit-octet /32s (10 characters each), as a YAML flow list. */
function yamlOf(n: number): string {
  const octet = (i: number, d: number) => Math.floor(i / d) % 10;
  const cidrs = Array.from(
    { length: n },
    (_, i) => `${octet(i, 1)}.${octet(i, 10)}.${octet(i, 100)}.${Math.floor(i / 1000)}/32`,
  );
  return `cidrLimit: 10000\nnonMasqueradeCIDRs: [${cidrs.join(",")}]\n`;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
}

const round = (x: number) => Math.round(x);

interface Cpu {
  user: number;
  system: number;
}

/** Sequential validates: wall time of each, and the server's CPU time per request. */
async function sequential(
  d: Dashboard,
  yaml: string,
): Promise<{ ms: number[]; cpuMs: number; ok: boolean }> {
  const ms: number[] = [];
  let ok = false;
  await d.api("/api/config/validate", { method: "POST", body: { yaml } }); // warm-up
  const c0 = await d.ask<Cpu>("cpu");
  for (let i = 0; i < ROUNDS; i++) {
    const [t, r] = await timed(() =>
      d.api<{ ok: boolean }>("/api/config/validate", { method: "POST", body: { yaml } }),
    );
    ms.push(t);
    ok = r.ok;
  }
  const c1 = await d.ask<Cpu>("cpu");
  const cpuMs = (c1.user + c1.system - c0.user - c0.system) / 1000 / ROUNDS;
  return { ms, cpuMs, ok };
}

/** Nine validates at once; /healthz is polled (5 ms apart) until they are all answered. */
async function burst(d: Dashboard, yaml: string): Promise<{ healthz: number[]; ms: number }> {
  const healthz: number[] = [];
  let done = false;
  const poll = (async () => {
    while (!done) {
      const [t] = await timed(() => fetch(`${d.url}/healthz`).then((r) => r.text()));
      healthz.push(t);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const [ms] = await timed(() =>
    Promise.all(
      Array.from({ length: 9 }, () =>
        d.api("/api/config/validate", { method: "POST", body: { yaml } }),
      ),
    ),
  );
  done = true;
  await poll;
  return { healthz, ms };
}

const CASES = [
  { id: "validate-5900", n: 5900, what: "5,900 CIDRs (64 KiB body), refused: over 4,096" },
  {
    id: "validate-4096",
    n: 4096,
    what: "4,096 CIDRs (the most nodes take): judged, diffed, impact",
  },
];

async function sequentialResults(d: Dashboard): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const c of CASES) {
    const yaml = yamlOf(c.n);
    const r = await sequential(d, yaml);
    const p50 = percentile(r.ms, 50);
    out.push({
      id: c.id,
      issue: 12,
      name: `POST /api/config/validate, ${c.what}`,
      value: round(p50),
      unit: "ms",
      target: "≤ 200 ms",
      pass: p50 <= 200,
      notes: `median of ${ROUNDS} after a warm-up, max ${round(Math.max(...r.ms))} ms; the server's CPU ${round(r.cpuMs)} ms per request; body ${Buffer.byteLength(JSON.stringify({ yaml }))} bytes; answered ok=${r.ok}`,
    });
  }
  return out;
}

async function parallelResult(d: Dashboard): Promise<BenchResult> {
  const healthz: number[] = [];
  const bursts: number[] = [];
  await d.ask("reset");
  for (let i = 0; i < BURSTS; i++)
    for (const c of CASES) {
      const b = await burst(d, yamlOf(c.n));
      healthz.push(...b.healthz);
      bursts.push(b.ms);
    }
  const lag = await d.ask<{ lagMaxMs: number }>("stats");
  const load = loadavg()[0]!.toFixed(1);
  const p99 = percentile(healthz, 99);
  return {
    id: "validate-parallel-healthz",
    issue: 12,
    name: "/healthz p99 while nine validates run at once",
    value: round(p99),
    unit: "ms",
    target: "≤ 200 ms",
    pass: p99 <= 200,
    notes: `${healthz.length} probes (5 ms apart) during ${bursts.length} bursts of nine (5,900- and 4,096-CIDR bodies alternating); probe max ${round(Math.max(...healthz))} ms; the server's longest event-loop block ${round(lag.lagMaxMs)} ms; each burst answered in full after ${bursts.map(round).join(", ")} ms (checks run one at a time, the event loop let through between their phases); load average ${load} on this machine`,
  };
}

async function historyResult(d: Dashboard): Promise<BenchResult> {
  const big = yamlOf(4000);
  for (let i = 0; i < 10; i++) {
    const cur = await d.api<{ resourceVersion: string }>("/api/config");
    const yaml = i % 2 === 0 ? big : "nonMasqueradeCIDRs: [10.0.0.0/8]\n";
    await d.api("/api/config", {
      method: "PUT",
      body: { yaml, resourceVersion: cur.resourceVersion },
    });
  }
  const [cold] = await timed(() => d.api("/api/history"));
  const warm: number[] = [];
  for (let i = 0; i < ROUNDS; i++) warm.push((await timed(() => d.api("/api/history")))[0]);
  const p50 = percentile(warm, 50);
  return {
    id: "history-large",
    issue: 12,
    name: "GET /api/history after five 4,000-CIDR revisions",
    value: round(p50),
    unit: "ms",
    target: "≤ 200 ms",
    pass: p50 <= 200,
    notes: `median of ${ROUNDS}, max ${round(Math.max(...warm))} ms; the first call, which parses each resourceVersion once, ${round(cold)} ms; 11 revisions of which 5 large (${Buffer.byteLength(big)} bytes of YAML each)`,
  };
}

export default async function configCpuBench(): Promise<BenchResult[]> {
  const d = await Dashboard.start();
  try {
    return [...(await sequentialResults(d)), await parallelResult(d), await historyResult(d)];
  } finally {
    await d.stop();
  }
}
