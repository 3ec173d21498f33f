// A hand edit → the dashboard has the snapshot showing it: the real reporter (its backend's
// monitor, reads, link) against a local dashboard, the edits run one `ip netns exec` command
// each. Shared by the iptables and the nftables latency benchmarks.
import { performance } from "node:perf_hooks";
import { defaultConfig, type MasqConfig, PROTOCOL_VERSION, type Snapshot } from "@masq/shared";
import { createAgent } from "../src/agent.js";
import type { Backend } from "../src/backend/types.js";
import { exec } from "../src/exec.js";
import { startFakeDashboard } from "../test/helpers/dashboard.js";
import { readProcStat } from "./kube-nat.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the reporter has sent nothing for a second (its start-up reads done: the first
 * snapshot after the monitor subscribed may take a full read on a big node), at most 60 s.
 */
async function quiet(dash: { messages: unknown[] }): Promise<void> {
  const deadline = Date.now() + 60_000;
  let seen = -1;
  while (seen !== dash.messages.length && Date.now() < deadline) {
    seen = dash.messages.length;
    await sleep(1_000);
  }
}

export interface Edit {
  argv: string[];
  /** The snapshot shows this edit. */
  shows(s: Snapshot): boolean;
}

export interface EditLatency {
  /** Edit start → snapshot received, ms. */
  latencies: number[];
  /** The edit command alone, ms. */
  editTimes: number[];
  /** The edit command's exit → snapshot received, ms. */
  afterEdit: number[];
  /** CPU ms over all edits: this process (reporter, dashboard) and its reaped children (the
   * reporter's nft and iptables, and the edit commands). */
  cpuMs: number;
}

const cpuNow = () => {
  const s = readProcStat("self");
  return s.self + s.children;
};

/** CPU ms per edit of the edit commands alone (run here with no reporter following). */
export async function editCost(ns: string, edits: number, edit: (i: number) => Edit) {
  const c0 = cpuNow();
  for (let i = 0; i < edits; i++) {
    const r = await exec(edit(i).argv, { netns: ns });
    if (r.code !== 0) throw new Error(`edit failed: ${r.stderr}`);
  }
  return (cpuNow() - c0) / edits;
}

/**
 * Applies `config` (default: the default config) through the agent, then runs `edits` and
 * times each one. A resync inside the run heals the edits away: give a long resyncInterval.
 */
export async function editLatency(
  backend: Backend,
  ns: string,
  edits: number,
  edit: (i: number) => Edit,
  config: MasqConfig = defaultConfig(),
): Promise<EditLatency> {
  const dash = await startFakeDashboard();
  const agent = createAgent({ nodeName: "bench-node", backend, dashboard: { url: dash.url } });
  try {
    await agent.start();
    await dash.waitFor("hello");
    dash.send({ type: "desired", v: PROTOCOL_VERSION, revision: 1, resourceVersion: "r1", config });
    await dash.waitFor("apply-result", (r) => r.ok, 30_000);
    await quiet(dash);
    const out: EditLatency = { latencies: [], editTimes: [], afterEdit: [], cpuMs: 0 };
    const c0 = cpuNow();
    for (let i = 0; i < edits; i++) {
      const e = edit(i);
      const seq = dash.messages.reduce(
        (m, x) => (x.type === "snapshot" ? Math.max(m, x.seq) : m),
        -1,
      );
      const t0 = performance.now();
      const r = await exec(e.argv, { netns: ns });
      if (r.code !== 0) throw new Error(`edit failed: ${r.stderr}`);
      out.editTimes.push(performance.now() - t0);
      await dash.waitFor("snapshot", (s) => s.seq > seq && e.shows(s), 10_000);
      out.latencies.push(performance.now() - t0);
      out.afterEdit.push(Math.max(0, out.latencies.at(-1)! - out.editTimes.at(-1)!));
      await sleep(30 + Math.random() * 70);
    }
    out.cpuMs = cpuNow() - c0;
    return out;
  } finally {
    await agent.stop();
    await dash.close();
  }
}
