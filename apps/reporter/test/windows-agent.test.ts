// The whole reporter in Windows mode (CNI backend, fs.watch, enforcer, state, link) against a
// copy of a real CNI config in a temp dir and a local dashboard over a real WebSocket: hello and
// snapshots as a Windows node, applies and their results, drift seen within a second, healing,
// observe mode that never writes, restart from persisted state, the mounted ConfigMap file.
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_FLAGS,
  defaultConfig,
  desiredExceptions,
  type MasqConfig,
  type ReporterMessage,
} from "@masq/shared";
import { CNI_CONFIGS_DIR as FIXTURES } from "@masq/testkit/cni-configs";
import { afterEach, describe, expect, it } from "vitest";
import { type Agent, type AgentOptions, createAgent } from "../src/agent.js";
import {
  createWindowsCniBackend,
  type WindowsCniBackendOptions,
} from "../src/backend/windows-cni.js";
import { type FakeDashboard, startFakeDashboard } from "./helpers/dashboard.js";
import { valueAt } from "./helpers/json-span.js";

const FILE = "10-flannel.conf";
const LIST = "/delegate/policies/0/value/Settings/Exceptions";
const FIXTURE_LIST = ["10.244.0.0/16", "10.96.0.0/12", "172.20.64.0/20"];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `imr-win-${tag}-`));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A node: its CNI directory with flannel/win-bridge (HNS v2 Settings.Exceptions). */
function node(fixture = "flannel-win-bridge-v2.conf") {
  const dir = tempDir("cni");
  const path = join(dir, FILE);
  copyFileSync(join(FIXTURES, fixture), path);
  utimesSync(path, new Date(2020, 0, 1), new Date(2020, 0, 1));
  return { dir, path };
}

async function dashboard(): Promise<FakeDashboard> {
  const d = await startFakeDashboard();
  cleanups.push(() => d.close());
  return d;
}

async function agentFor(
  path: string,
  opts: Partial<Omit<AgentOptions, "backend">> & {
    backend?: Partial<WindowsCniBackendOptions>;
  } = {},
): Promise<Agent> {
  const { backend: b, ...rest } = opts;
  // A slow poll: only fs.watch can make the latency tests pass.
  const backend = createWindowsCniBackend({
    path,
    flags: DEFAULT_FLAGS,
    pollIntervalMs: 60_000,
    ...b,
  });
  const agent = createAgent({ nodeName: "win-node-1", backend, ...rest });
  cleanups.push(() => agent.stop());
  await agent.start();
  return agent;
}

const cfg = (cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });
const listOf = (path: string) => valueAt(readFileSync(path, "utf8"), LIST);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lastSeq(d: FakeDashboard): number {
  return Math.max(-1, ...d.messages.flatMap((m) => (m.type === "snapshot" ? [m.seq] : [])));
}

/** The next snapshot whose list satisfies `pred`. */
function snapshotWith(
  d: FakeDashboard,
  after: number,
  pred: (exceptions: string[] | undefined) => boolean,
  timeoutMs = 1_000,
) {
  return d.waitFor(
    "snapshot",
    (s) => s.seq > after && pred(s.windows?.lists[0]?.exceptions),
    timeoutMs,
  );
}

/** An editor's save: write a sibling, then rename it over the file. */
function editorSave(path: string, text: string) {
  writeFileSync(`${path}.swp`, text);
  renameSync(`${path}.swp`, path);
}

const same = (want: readonly string[]) => (got: string[] | undefined) =>
  JSON.stringify(got) === JSON.stringify(want);

describe("reporter in Windows mode", () => {
  it("says hello as a Windows node and reports the CNI config's list", async () => {
    const { path } = node();
    const d = await dashboard();
    await agentFor(path, { dashboard: { url: d.url } });
    const hello = await d.waitFor("hello");
    expect(hello).toMatchObject({
      node: "win-node-1",
      os: "windows",
      backend: "cni",
      iptablesVersion: "",
      randomFullySupported: false,
      mode: "enforce",
      flags: DEFAULT_FLAGS,
      appliedRevision: null,
    });
    expect(hello.kernel).not.toBe("");
    const snap = await d.waitFor("snapshot");
    expect(snap.linux).toBeUndefined();
    expect(snap.windows).toEqual({
      path,
      lists: [{ pointer: LIST, form: "OutBoundNAT", exceptions: FIXTURE_LIST }],
    });
    expect(d.invalid).toEqual([]);
  });

  it("applies a desired config: snapshot of the new list, then the result; state persisted", async () => {
    const { dir, path } = node();
    const stateDir = tempDir("state");
    const d = await dashboard();
    const agent = await agentFor(path, { dashboard: { url: d.url }, stateDir });
    await d.waitFor("snapshot");
    d.send({ type: "desired", v: 2, revision: 3, resourceVersion: "r3", config: defaultConfig() });
    const result = await d.waitFor("apply-result");
    expect(result).toMatchObject({ revision: 3, ok: true, trigger: "desired", changed: true });
    const snap = await d.waitFor("snapshot", (s) => s.appliedRevision === 3);
    expect(snap.windows?.lists[0]?.exceptions).toEqual(desiredExceptions(defaultConfig()));
    expect(d.messages.indexOf(snap)).toBeLessThan(d.messages.indexOf(result));
    expect(listOf(path)).toEqual(desiredExceptions(defaultConfig()));
    expect(readdirSync(dir).sort()).toEqual(
      [FILE, `${FILE}.ipmasq-backup`, `${FILE}.ipmasq-original`].sort(),
    );
    expect(JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8"))).toMatchObject({
      revision: 3,
      source: "dashboard",
    });
    expect(agent.status()).toMatchObject({ appliedRevision: 3, snapshots: undefined });
    expect(agent.status().windows?.lists[0]?.exceptions).toEqual(
      desiredExceptions(defaultConfig()),
    );
    expect(d.invalid).toEqual([]);
  });

  it("sees hand edits (in place and by rename) through the watcher and reports them; resync heals", async () => {
    const { path } = node();
    const d = await dashboard();
    const agent = await agentFor(path, { dashboard: { url: d.url } });
    await d.waitFor("snapshot");
    d.send({
      type: "desired",
      v: 2,
      revision: 1,
      resourceVersion: "r1",
      config: cfg(["10.0.0.0/8"]),
    });
    await d.waitFor("apply-result");
    const want = ["10.0.0.0/8", "169.254.0.0/16"];
    expect(listOf(path)).toEqual(want);

    // In place, as a script would.
    let seq = lastSeq(d);
    writeFileSync(
      path,
      readFileSync(path, "utf8").replace('"10.0.0.0/8"', '"10.0.0.0/8", "203.0.113.0/24"'),
    );
    await snapshotWith(d, seq, same(["10.0.0.0/8", "203.0.113.0/24", "169.254.0.0/16"]));

    // By rename, as an editor or an installer would.
    seq = lastSeq(d);
    editorSave(path, readFileSync(path, "utf8").replace(', "203.0.113.0/24"', ""));
    await snapshotWith(d, seq, same(want));

    editorSave(path, readFileSync(path, "utf8").replace('"10.0.0.0/8"', '"10.0.0.0/9"'));
    await snapshotWith(d, lastSeq(d) - 1, same(["10.0.0.0/9", "169.254.0.0/16"]));
    // heal=next-resync: the drift is reported, not healed yet.
    expect(
      (await agent.metrics.registry.getSingleMetric("ipmasq_drift")?.get())?.values[0]?.value,
    ).toBe(1);
    await sleep(200);
    expect(listOf(path)).toEqual(["10.0.0.0/9", "169.254.0.0/16"]);

    d.send({ type: "resync", v: 2, requestId: "q1" });
    await d.waitFor("apply-result", (r) => r.trigger === "resync" && r.changed);
    expect(listOf(path)).toEqual(want);
  });

  it("heals a hand edit at once with heal=immediate", async () => {
    const { path } = node();
    const d = await dashboard();
    await agentFor(path, { dashboard: { url: d.url }, heal: "immediate" });
    await d.waitFor("snapshot");
    d.send({
      type: "desired",
      v: 2,
      revision: 1,
      resourceVersion: "r1",
      config: cfg(["10.0.0.0/8"]),
    });
    await d.waitFor("apply-result");
    editorSave(path, readFileSync(path, "utf8").replace('"10.0.0.0/8"', '"10.1.0.0/16"'));
    await d.waitFor("apply-result", (r) => r.trigger === "heal" && r.ok && r.changed, 5_000);
    expect(listOf(path)).toEqual(["10.0.0.0/8", "169.254.0.0/16"]);
  });

  it("observe mode never writes, whatever it is sent", async () => {
    const { dir, path } = node();
    const before = { bytes: readFileSync(path), mtimeMs: statSync(path).mtimeMs };
    const d = await dashboard();
    const agent = await agentFor(path, {
      dashboard: { url: d.url },
      mode: "observe",
      heal: "immediate",
      stateDir: tempDir("state"),
    });
    expect((await d.waitFor("hello")).mode).toBe("observe");
    d.send({ type: "desired", v: 2, revision: 2, resourceVersion: "r2", config: defaultConfig() });
    d.send({ type: "resync", v: 2, requestId: "q1" });
    // resync in observe mode answers with what the node has.
    await d.waitFor("snapshot", (s) => s.seq >= 1);
    await agent.refresh();
    await sleep(150);
    expect(d.messages.filter((m) => m.type === "apply-result")).toEqual([]);
    expect(readFileSync(path)).toEqual(before.bytes);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    expect(readdirSync(dir)).toEqual([FILE]);
    // The drift is still judged and exported.
    expect(
      (await agent.metrics.registry.getSingleMetric("ipmasq_drift")?.get())?.values[0]?.value,
    ).toBe(1);
  });

  it("restarts from the persisted config without a dashboard and re-applies it", async () => {
    const { path } = node();
    const stateDir = tempDir("state");
    const d = await dashboard();
    const first = await agentFor(path, { dashboard: { url: d.url }, stateDir });
    await d.waitFor("snapshot");
    d.send({
      type: "desired",
      v: 2,
      revision: 5,
      resourceVersion: "r5",
      config: cfg(["10.0.0.0/8"]),
    });
    await d.waitFor("apply-result");
    await first.stop();

    // While the reporter is down, the installer puts its own list back.
    editorSave(path, readFileSync(join(FIXTURES, "flannel-win-bridge-v2.conf"), "utf8"));
    expect(listOf(path)).toEqual(FIXTURE_LIST);

    const second = await agentFor(path, { stateDir });
    expect(listOf(path)).toEqual(["10.0.0.0/8", "169.254.0.0/16"]);
    expect(second.status()).toMatchObject({ appliedRevision: 5 });
    expect(second.status().desired).toMatchObject({ revision: 5, source: "dashboard" });
  });

  it("adopts the mounted ip-masq-agent ConfigMap file when the dashboard is away", async () => {
    const { path } = node();
    const cm = join(tempDir("cm"), "ip-masq-agent");
    writeFileSync(
      cm,
      "nonMasqueradeCIDRs:\n  - 10.0.0.0/8\n  - 192.168.0.0/16\nmasqLinkLocal: true\n",
    );
    await agentFor(path, { configFile: cm, stateDir: tempDir("state") });
    expect(listOf(path)).toEqual(["10.0.0.0/8", "192.168.0.0/16"]);
  });

  it("never touches a file it cannot parse: reports why, and a failed apply", async () => {
    const { dir, path } = node("azure-vnet-missing-comma.conflist");
    const before = { bytes: readFileSync(path), mtimeMs: statSync(path).mtimeMs };
    const d = await dashboard();
    await agentFor(path, { dashboard: { url: d.url } });
    const snap = await d.waitFor("snapshot");
    expect(snap.windows).toMatchObject({ path, lists: [] });
    expect(snap.windows?.readError).toMatch(/not valid JSON at line 57, column 17/);
    d.send({ type: "desired", v: 2, revision: 1, resourceVersion: "r1", config: defaultConfig() });
    const result = await d.waitFor("apply-result");
    expect(result).toMatchObject({ ok: false, changed: false });
    expect(result.error).toMatch(/the file was not touched/);
    expect(readFileSync(path)).toEqual(before.bytes);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    expect(readdirSync(dir)).toEqual([FILE]);
    expect(d.invalid).toEqual([]);
  });

  it("every message it sends is valid for the protocol", async () => {
    const { path } = node("sdnbridge-dualstack.conf");
    const d = await dashboard();
    await agentFor(path, { dashboard: { url: d.url } });
    await d.waitFor("snapshot");
    d.send({ type: "desired", v: 2, revision: 1, resourceVersion: "r1", config: defaultConfig() });
    await d.waitFor("apply-result");
    const types = new Set(d.messages.map((m: ReporterMessage) => m.type));
    expect([...types].sort()).toEqual(["apply-result", "hello", "snapshot"]);
    expect(d.invalid).toEqual([]);
  });
});
