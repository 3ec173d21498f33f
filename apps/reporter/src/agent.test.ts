import { chainLines, DEFAULT_FLAGS, defaultConfig, type Mode } from "@masq/shared";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeDashboard, startFakeDashboard } from "../test/helpers/dashboard.js";
import { type Agent, createAgent } from "./agent.js";
import { createMemoryBackend } from "./backend/memory.js";

let agent: Agent | undefined;
let dash: FakeDashboard | undefined;
afterEach(async () => {
  await agent?.stop();
  await dash?.close();
  agent = dash = undefined;
});

async function setup(mode: Mode = "enforce") {
  dash = await startFakeDashboard();
  const backend = createMemoryBackend({ flags: DEFAULT_FLAGS });
  agent = createAgent({
    nodeName: "node-a",
    backend,
    mode,
    dashboard: { url: dash.url, token: "t0k" },
    metricsPort: 0,
    metricsHost: "127.0.0.1",
  });
  await agent.start();
  await dash.waitFor("hello");
  return { backend, dash, agent };
}

describe("agent (memory backend, local dashboard)", () => {
  it("says hello with the node's facts, then sends a snapshot", async () => {
    const { dash } = await setup();
    const hello = await dash.waitFor("hello");
    expect(hello).toMatchObject({
      node: "node-a",
      os: "linux",
      backend: "memory",
      mode: "enforce",
      flags: DEFAULT_FLAGS,
      appliedRevision: null,
    });
    const snap = await dash.waitFor("snapshot");
    expect(snap.linux).toEqual([
      {
        family: "ipv4",
        backend: "nf_tables",
        chains: [
          { name: "POSTROUTING", lines: ["-P POSTROUTING ACCEPT"] },
          { name: "IP-MASQ-AGENT", lines: null },
        ],
      },
    ]);
    // Nothing to enforce yet: no resync is scheduled.
    expect(snap.schedule).toEqual({ heal: "next-resync", resyncMs: null, nextResyncAt: null });
    expect(dash.authHeaders).toEqual(["Bearer t0k"]);
    expect(dash.invalid).toEqual([]);
  });

  it("applies a desired config: snapshot of the new rules, then the result", async () => {
    const { dash, backend } = await setup();
    await dash.waitFor("snapshot");
    dash.send({
      type: "desired",
      v: 2,
      revision: 3,
      resourceVersion: "r3",
      config: defaultConfig(),
    });
    const result = await dash.waitFor("apply-result");
    expect(result).toMatchObject({ revision: 3, ok: true, trigger: "desired", changed: true });
    const snap = await dash.waitFor("snapshot", (s) => s.appliedRevision === 3);
    expect(chainLines(snap.linux![0]!, "IP-MASQ-AGENT")?.length).toBeGreaterThan(3);
    // The default resyncInterval (60 s), timed from the config's arrival.
    expect(snap.schedule).toMatchObject({ resyncMs: 60_000, nextResyncAt: expect.any(Number) });
    expect(dash.messages.indexOf(snap)).toBeLessThan(dash.messages.indexOf(result));
    expect(backend.writes()).toBe(1);
  });

  it("reports a hand edit at once with a new snapshot", async () => {
    const { dash, backend } = await setup();
    dash.send({
      type: "desired",
      v: 2,
      revision: 1,
      resourceVersion: "r1",
      config: defaultConfig(),
    });
    await dash.waitFor("apply-result");
    backend.edit("ipv4", (s) => s.chain!.push("-A IP-MASQ-AGENT -d 1.2.3.0/24 -j RETURN"));
    const snap = await dash.waitFor(
      "snapshot",
      (s) =>
        chainLines(s.linux![0]!, "IP-MASQ-AGENT")?.some((l) => l.includes("1.2.3.0/24")) ?? false,
      1_000,
    );
    expect(snap.seq).toBeGreaterThan(0);
  });

  it("ignores malformed frames and keeps working", async () => {
    const { dash, backend } = await setup();
    await dash.waitFor("snapshot");
    dash.send("not json");
    dash.send(
      JSON.stringify({
        type: "desired",
        v: 2,
        revision: 1,
        resourceVersion: "r",
        config: { nonMasqueradeCIDRs: "10.0.0.0/8" },
      }),
    );
    // A version this reporter does not speak (the dashboard answers each reporter in its own).
    dash.send(
      JSON.stringify({
        type: "desired",
        v: 1,
        revision: 1,
        resourceVersion: "r",
        config: defaultConfig(),
      }),
    );
    dash.send(JSON.stringify({ type: "resync", v: 2 }));
    await new Promise((r) => setTimeout(r, 100));
    expect(backend.writes()).toBe(0);
    dash.send({
      type: "desired",
      v: 2,
      revision: 2,
      resourceVersion: "r2",
      config: defaultConfig(),
    });
    expect(await dash.waitFor("apply-result")).toMatchObject({ revision: 2, ok: true });
  });

  it("answers resync in observe mode with a snapshot and no write", async () => {
    const { dash, backend } = await setup("observe");
    await dash.waitFor("snapshot");
    const before = dash.messages.filter((m) => m.type === "snapshot").length;
    dash.send({
      type: "desired",
      v: 2,
      revision: 1,
      resourceVersion: "r1",
      config: defaultConfig(),
    });
    dash.send({ type: "resync", v: 2, requestId: "q1" });
    await dash.waitFor(
      "snapshot",
      () => dash!.messages.filter((m) => m.type === "snapshot").length > before,
    );
    expect(backend.writes()).toBe(0);
    expect(dash.messages.some((m) => m.type === "apply-result")).toBe(false);
  });

  it("serves /healthz and /metrics", async () => {
    const { agent, dash } = await setup();
    dash.send({
      type: "desired",
      v: 2,
      revision: 1,
      resourceVersion: "r1",
      config: defaultConfig(),
    });
    await dash.waitFor("apply-result");
    const port = agent.status().opsPort;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/ipmasq_apply_total\{result="ok",trigger="desired"\} 1/);
    expect(text).toMatch(/ipmasq_drift 0/);
    expect(text).toMatch(/ipmasq_dashboard_connected 1/);
    expect(text).toMatch(/ipmasq_apply_duration_seconds_count\{trigger="desired"\} 1/);
  });
});

describe("agent start failure", () => {
  it("closes what it already opened (ops port) when a later step fails", async () => {
    const memory = createMemoryBackend({ flags: DEFAULT_FLAGS });
    let calls = 0;
    const backend = {
      ...memory,
      effectiveFlags: async () => {
        if (++calls > 1) throw new Error("iptables vanished");
        return memory.effectiveFlags();
      },
    };
    const a = createAgent({
      nodeName: "node-b",
      backend,
      metricsPort: 0,
      metricsHost: "127.0.0.1",
    });
    await expect(a.start()).rejects.toThrow(/iptables vanished/);
    const port = a.status().opsPort;
    expect(port).toBeGreaterThan(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(a.status().started).toBe(false);
  });
});
