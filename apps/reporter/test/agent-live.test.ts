// The whole reporter (real iptables, xtables-monitor, enforcer, link) against throwaway
// namespaces and a local dashboard: drift latency, healing, observe mode, restart without
// a dashboard.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chainLines, DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "@masq/shared";
import { inNetns, jumpCount, natRules, netnsPool } from "@masq/testkit/netns";
import { sleep, until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { type Agent, type AgentOptions, createAgent } from "../src/agent.js";
import { createIptablesBackend, type IptablesBackendOptions } from "../src/backend/iptables.js";
import { type FakeDashboard, startFakeDashboard } from "./helpers/dashboard.js";
import { wrapperDir } from "./helpers/wrappers.js";

const pool = netnsPool();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
  pool.cleanup();
});

const CHAIN = "IP-MASQ-AGENT";
const cfg = (cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });

async function dashboard(): Promise<FakeDashboard> {
  const d = await startFakeDashboard();
  cleanups.push(() => d.close());
  return d;
}

async function agentIn(
  ns: string,
  opts: Partial<Omit<AgentOptions, "backend">> & { backend?: Partial<IptablesBackendOptions> } = {},
): Promise<Agent> {
  const { backend: b, ...rest } = opts;
  const backend = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS, ...b });
  const agent = createAgent({ nodeName: "node-live", backend, ...rest });
  cleanups.push(() => agent.stop());
  await agent.start();
  return agent;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "imr-state-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const hasLine = (d: FakeDashboard, seqAfter: number, needle: string) =>
  d.waitFor(
    "snapshot",
    (s) =>
      s.seq > seqAfter &&
      (chainLines(s.linux![0]!, "IP-MASQ-AGENT")?.some((l) => l.includes(needle)) ?? false),
    5_000, // far below the 60 s poll: only the monitor is this quick
  );

describe("reporter on a live namespace", () => {
  it("sees hand edits of the chain through the nf_tables monitor (not the poll) and reports them", async () => {
    const ns = pool.add("lat");
    const d = await dashboard();
    await agentIn(ns, { dashboard: { url: d.url }, backend: { pollIntervalMs: 60_000 } });
    await d.waitFor("hello");
    d.send({
      type: "desired",
      v: 2,
      revision: 1,
      resourceVersion: "r1",
      config: cfg(["10.0.0.0/8"]),
    });
    await d.waitFor("apply-result");
    await sleep(300); // let the monitor subscribe
    for (let i = 1; i <= 5; i++) {
      const seq = Math.max(...d.messages.flatMap((m) => (m.type === "snapshot" ? [m.seq] : [])));
      inNetns(ns, [
        "iptables",
        "-w",
        "-t",
        "nat",
        "-I",
        CHAIN,
        "1",
        "-d",
        `203.0.113.${i * 8}/29`,
        "-j",
        "RETURN",
      ]);
      await hasLine(d, seq, `203.0.113.${i * 8}/29`);
      // hasLine fails the test when the edit is not reported. The poll runs every 60 s here, so
      // every edit is seen through xtables-monitor; the latency itself is measured by
      // bench/drift-latency.bench.ts, not asserted here.
    }
  });

  it("heals at once with heal=immediate, keeping exactly one jump", async () => {
    const ns = pool.add("heal");
    const a = await agentIn(ns, { heal: "immediate" });
    await a.enforcer.receive({ config: cfg(["10.0.0.0/8"]), revision: 2, resourceVersion: "r2" });
    await sleep(300); // let the monitor subscribe
    const jump = natRules(ns, "POSTROUTING").find((l) => l.endsWith(`-j ${CHAIN}`))!;
    inNetns(ns, ["iptables", "-w", "-t", "nat", "-D", "POSTROUTING", "1"]);
    inNetns(ns, ["iptables", "-w", "-t", "nat", "-D", CHAIN, "2"]);
    expect(jumpCount(ns)).toBe(0);
    await until(
      () => jumpCount(ns) === 1 && natRules(ns, CHAIN).some((l) => l.includes("10.0.0.0/8")),
      2_000,
    );
    expect(natRules(ns, "POSTROUTING").filter((l) => l.includes(CHAIN))).toEqual([jump]);
  });

  it("observe mode never writes: not on start, desired, resync or drift", async () => {
    const ns = pool.add("obs");
    // What the upstream agent left on the node.
    inNetns(
      ns,
      ["iptables-restore", "--noflush"],
      `*nat\n:${CHAIN} - [0:0]\n-A ${CHAIN} -d 10.0.0.0/8 -j RETURN\n-A ${CHAIN} -j MASQUERADE\n-A POSTROUTING -j ${CHAIN}\nCOMMIT\n`,
    );
    const wrappers = wrapperDir();
    cleanups.push(() => wrappers.cleanup());
    const log = join(wrappers.dir, "writes.log");
    const spy = wrappers.script("spy-restore", `echo "$@" >> ${log}\nexec iptables-restore "$@"`);
    const d = await dashboard();
    const state = tempDir();
    await agentIn(ns, {
      mode: "observe",
      heal: "immediate",
      stateDir: state,
      dashboard: { url: d.url },
      backend: { binaries: { iptablesRestore: spy, ip6tablesRestore: spy } },
    });
    await d.waitFor("hello", (h) => h.mode === "observe");
    d.send({
      type: "desired",
      v: 2,
      revision: 1,
      resourceVersion: "r1",
      config: cfg(["172.16.0.0/12"]),
    });
    d.send({ type: "resync", v: 2, requestId: "x" });
    await sleep(300);
    const seq = Math.max(...d.messages.flatMap((m) => (m.type === "snapshot" ? [m.seq] : [])));
    inNetns(ns, [
      "iptables",
      "-w",
      "-t",
      "nat",
      "-I",
      CHAIN,
      "1",
      "-d",
      "198.51.100.0/24",
      "-j",
      "RETURN",
    ]);
    await hasLine(d, seq, "198.51.100.0/24");
    await sleep(300);
    expect(natRules(ns, CHAIN)).toEqual([
      `-N ${CHAIN}`,
      `-A ${CHAIN} -d 198.51.100.0/24 -j RETURN`,
      `-A ${CHAIN} -d 10.0.0.0/8 -j RETURN`,
      `-A ${CHAIN} -j MASQUERADE`,
    ]);
    expect(existsSync(log)).toBe(false); // the restore program was never run
    expect(d.messages.some((m) => m.type === "apply-result")).toBe(false);
  });

  it("after a restart with no dashboard, enforces the persisted config on a fresh node", async () => {
    const state = tempDir();
    const d = await dashboard();
    const first = await agentIn(pool.add("rs1"), { stateDir: state, dashboard: { url: d.url } });
    await d.waitFor("hello");
    d.send({
      type: "desired",
      v: 2,
      revision: 4,
      resourceVersion: "r4",
      config: cfg(["10.0.0.0/8", "100.64.0.0/10"]),
    });
    await d.waitFor("apply-result", (r) => r.ok);
    await first.stop();
    await d.close();
    // A new node (namespace) and a dashboard that is gone.
    const ns = pool.add("rs2");
    const second = await agentIn(ns, {
      stateDir: state,
      dashboard: { url: d.url, link: { backoff: { initialMs: 100 } } },
    });
    expect(natRules(ns, CHAIN).some((l) => l.includes("100.64.0.0/10"))).toBe(true);
    expect(jumpCount(ns)).toBe(1);
    expect(second.status()).toMatchObject({ appliedRevision: 4, connected: false });
  });
});
