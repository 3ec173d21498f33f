import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DEFAULT_FLAGS } from "@masq/shared";
import { privateCa } from "@masq/testkit/tls";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { blankEnvIsUnset } from "./env.js";
import { addAgentFlagOptions } from "./flags.js";
import { parseInterval } from "./link-options.js";
import {
  addRunOptions,
  agentDashboard,
  type RunCliOptions,
  runSettingsFrom,
} from "./run-options.js";

const ENV_KEYS = [
  "NODE_NAME",
  "IPMASQ_DASHBOARD",
  "IPMASQ_TOKEN",
  "IPMASQ_TOKEN_FILE",
  "IPMASQ_NETNS",
  "IPMASQ_MODE",
  "IPMASQ_STATE_DIR",
  "IPMASQ_METRICS_PORT",
  "IPMASQ_HEAL",
  "IPMASQ_POLL_INTERVAL",
  "IPMASQ_CONFIG_FILE",
  "IPMASQ_LOG_LEVEL",
  "IPMASQ_ENABLE_IPV6",
  "IPMASQ_RANDOM_FULLY",
  "IPMASQ_IPTABLES",
  "IPMASQ_BACKEND",
  "IPMASQ_WINDOWS_CNI",
  "IPMASQ_LIVENESS_PING_IDLE",
  "IPMASQ_LIVENESS_DEAD_AFTER",
  "IPMASQ_LIVENESS_HEDGE",
  "IPMASQ_DASHBOARD_CA",
];
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

function parse(args: string[], env: Record<string, string> = {}) {
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, env);
  let opts: RunCliOptions | undefined;
  const program = new Command().exitOverride();
  addAgentFlagOptions(addRunOptions(program.command("run"))).action((o: RunCliOptions) => {
    opts = o;
  });
  blankEnvIsUnset(program); // as buildProgram does
  program.parse(["run", ...args], { from: "user" });
  return runSettingsFrom(opts!);
}

describe("ipmasq run options", () => {
  it("reads every setting from the environment (the Helm chart's contract)", () => {
    const s = parse([], {
      NODE_NAME: "node-1",
      IPMASQ_DASHBOARD: "wss://dash.example/api/reporter",
      IPMASQ_TOKEN: "secret",
      IPMASQ_NETNS: "imr-x",
      IPMASQ_MODE: "observe",
      IPMASQ_STATE_DIR: "/tmp/st",
      IPMASQ_METRICS_PORT: "9102",
      IPMASQ_HEAL: "immediate",
      IPMASQ_POLL_INTERVAL: "2s",
      IPMASQ_CONFIG_FILE: "/etc/config/ip-masq-agent",
      IPMASQ_LOG_LEVEL: "debug",
      IPMASQ_ENABLE_IPV6: "true",
      IPMASQ_RANDOM_FULLY: "false",
      IPMASQ_IPTABLES: "legacy",
      IPMASQ_BACKEND: "nftables",
      IPMASQ_LIVENESS_PING_IDLE: "3s",
      IPMASQ_LIVENESS_DEAD_AFTER: "10s",
      IPMASQ_LIVENESS_HEDGE: "2s",
    });
    expect(s).toEqual({
      nodeName: "node-1",
      dashboard: {
        url: "wss://dash.example/api/reporter",
        token: "secret",
        liveness: { pingIdleMs: 3_000, deadAfterMs: 10_000, hedgeMs: 2_000 },
      },
      netns: "imr-x",
      mode: "observe",
      heal: "immediate",
      stateDir: "/tmp/st",
      metricsPort: 9102,
      pollIntervalMs: 2_000,
      configFile: "/etc/config/ip-masq-agent",
      logLevel: "debug",
      variant: "legacy",
      backend: "nftables",
      flags: { ...DEFAULT_FLAGS, enableIPv6: true, randomFully: false },
    });
  });

  it("refuses a backend it does not know", () => {
    expect(() => parse(["--node", "n", "--backend", "ipvs"])).toThrow(
      /Allowed choices are iptables, nftables, auto/,
    );
  });

  const DEFAULTS = {
    mode: "enforce",
    heal: "next-resync",
    stateDir: "/var/lib/ipmasq",
    pollIntervalMs: 10_000,
    logLevel: "info",
    variant: "auto",
    backend: "auto",
    flags: DEFAULT_FLAGS,
  };
  it("has safe defaults: enforce, /var/lib/ipmasq, 10 s poll, no metrics port", () => {
    const s = parse(["--node", "n"]);
    expect(s).toMatchObject(DEFAULTS);
    expect(s.metricsPort).toBeUndefined();
    expect(s.dashboard).toBeUndefined();
  });

  it("empty variables are unset (a Helm value left empty): the defaults, no clash", async () => {
    const tokenFile = join(await mkdtemp(join(tmpdir(), "imr-tok-")), "token");
    await writeFile(tokenFile, "t\n");
    const blank = Object.fromEntries(ENV_KEYS.map((k) => [k, k === "NODE_NAME" ? "n" : ""]));
    const s = parse([], {
      ...blank,
      IPMASQ_DASHBOARD: "ws://d/api/reporter",
      IPMASQ_TOKEN_FILE: tokenFile,
    });
    expect(s).toMatchObject(DEFAULTS);
    expect(s.netns).toBeUndefined();
    const token = s.dashboard?.token;
    expect(typeof token === "function" ? await token() : token).toBe("t");
    await rm(dirname(tokenFile), { recursive: true });
  });

  it("flags win over the environment", () => {
    expect(
      parse(["--node", "flag-node", "--mode", "enforce"], {
        NODE_NAME: "env-node",
        IPMASQ_MODE: "observe",
      }),
    ).toMatchObject({ nodeName: "flag-node", mode: "enforce" });
  });

  it("reads the token file at every call (rotated projected tokens)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imr-tok-"));
    try {
      const file = join(dir, "token");
      await writeFile(file, "one\n");
      const token = parse([
        "--node",
        "n",
        "--dashboard",
        "ws://x/api/reporter",
        "--token-file",
        file,
      ]).dashboard?.token;
      if (typeof token !== "function") throw new Error("expected a token function");
      expect(await token()).toBe("one");
      await writeFile(file, "two\n");
      expect(await token()).toBe("two");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [["--dashboard", "http://x"], /ws:\/\//],
    [["--mode", "maybe"], /Allowed choices/],
    [["--poll-interval", "soon"], /invalid duration/],
    [["--poll-interval", "5ms"], /at least 100ms/],
    [["--metrics-port", "99999"], /not a port/],
    [["--metrics-port", "0x50"], /not a port/], // Number() reads it as 80
    [["--metrics-port", "1e3"], /not a port/],
    [["--token", "a", "--token-file", "b"], /not both/],
    [["--log-level", "loud"], /unknown level/],
    [["--to-ports", "2000-1000"], /--to-ports/],
  ])("refuses %j", (args, message) => {
    expect(() => parse(["--node", "n", ...args])).toThrow(message);
  });

  it("runs in Windows mode with --windows-cni or IPMASQ_WINDOWS_CNI", () => {
    const path = "C:\\etc\\cni\\net.d\\10-flannel.conf";
    expect(parse(["--node", "n", "--windows-cni", path]).windowsCni).toBe(path);
    expect(parse(["--node", "n"], { IPMASQ_WINDOWS_CNI: path }).windowsCni).toBe(path);
    expect(parse(["--node", "n"], { IPMASQ_WINDOWS_CNI: "" }).windowsCni).toBeUndefined();
    expect(parse(["--node", "n"]).windowsCni).toBeUndefined();
  });

  it("takes exactly what the Helm chart's Windows DaemonSet passes", () => {
    const path = "C:\\etc\\cni\\net.d\\10-flannel.conf";
    const s = parse(["--windows-cni", path], {
      NODE_NAME: "win-node-1",
      IPMASQ_DASHBOARD: "ws://ipmasq-dashboard.kube-system.svc.cluster.local:80/api/reporter",
      IPMASQ_TOKEN_FILE: "/var/run/secrets/ipmasq/token",
      IPMASQ_MODE: "observe",
      IPMASQ_STATE_DIR: "C:\\ProgramData\\ipmasq",
      IPMASQ_METRICS_PORT: "9102",
      IPMASQ_HEAL: "next-resync",
      IPMASQ_POLL_INTERVAL: "10s",
      IPMASQ_CONFIG_FILE: "/etc/config/ip-masq-agent",
      IPMASQ_ENABLE_IPV6: "false",
      IPMASQ_RANDOM_FULLY: "true",
      IPMASQ_LOG_LEVEL: "info",
      IPMASQ_WINDOWS_CNI: path,
    });
    expect(s).toMatchObject({
      nodeName: "win-node-1",
      windowsCni: path,
      mode: "observe",
      stateDir: "C:\\ProgramData\\ipmasq",
      metricsPort: 9102,
      configFile: "/etc/config/ip-masq-agent",
    });
    expect(s.netns).toBeUndefined();
  });

  it("refuses --windows-cni with --netns", () => {
    expect(() => parse(["--node", "n", "--windows-cni", "/x.conf", "--netns", "ns1"])).toThrow(
      /--windows-cni \(IPMASQ_WINDOWS_CNI\) .* cannot be combined with --netns \(IPMASQ_NETNS\)/,
    );
    expect(() =>
      parse(["--node", "n"], { IPMASQ_WINDOWS_CNI: "/x.conf", IPMASQ_NETNS: "ns1" }),
    ).toThrow(/cannot be combined/);
  });

  it("needs a valid node name", () => {
    expect(() => parse([])).toThrow(/node/);
    expect(() => parse(["--node", "Not_A_Node"])).toThrow(/node name/);
  });

  it("parses intervals as Go durations or milliseconds", () => {
    expect(parseInterval("1m30s", "x")).toBe(90_000);
    expect(parseInterval("250", "x")).toBe(250);
    expect(parseInterval("600h", "x")).toBe(600 * 3_600_000); // timers chain past 2^31-1 ms
    expect(() => parseInterval("2562048h", "--poll-interval")).toThrow(
      '--poll-interval: time: invalid duration "2562048h"',
    );
  });

  it("hands the agent's link the liveness timings and, for wss://, the CA bundle", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ipmasq-ca-"));
    try {
      const ca = join(dir, "ca.crt");
      const pem = privateCa().caPem;
      await writeFile(ca, pem);
      const env = { NODE_NAME: "n", IPMASQ_DASHBOARD_CA: ca, IPMASQ_LIVENESS_DEAD_AFTER: "8s" };
      const d = agentDashboard(
        parse([], { ...env, IPMASQ_DASHBOARD: "wss://proxy.example/api/reporter" }).dashboard,
      );
      expect(d?.url).toBe("wss://proxy.example/api/reporter");
      expect(d?.link?.liveness).toEqual({ pingIdleMs: 1_500, deadAfterMs: 8_000, hedgeMs: 1_500 });
      expect(d?.link?.ws?.ca).toContain(pem.trim());
      expect(() => parse([], { ...env, IPMASQ_DASHBOARD: "ws://dash:3000/api/reporter" })).toThrow(
        /--dashboard-ca \(IPMASQ_DASHBOARD_CA\) is for a wss:\/\/ --dashboard URL/,
      );
      expect(agentDashboard(parse(["--node", "n"]).dashboard)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
