// `ipmasq apply` and `ipmasq run` against live namespaces: the one-shot apply exits 0 only
// when verified; the daemon takes its settings from the environment (as the Helm chart sets
// them), talks to the dashboard and stops cleanly on SIGTERM, leaving no child behind.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig } from "@masq/shared";
import { jumpCount, natRules, netnsPool } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, expect, it } from "vitest";
import { startCli } from "./helpers/cli-process.js";
import { startFakeDashboard } from "./helpers/dashboard.js";
import { cli } from "./helpers/run-cli.js";

const _here = dirname(fileURLToPath(import.meta.url));
const pool = netnsPool();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
  pool.cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "imr-cli-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

it("ipmasq apply --netns applies atomically, exits 0 when verified and 1 on an invalid config", async () => {
  const ns = pool.add("capply");
  const dir = tempDir();
  writeFileSync(join(dir, "good.yaml"), "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n");
  writeFileSync(join(dir, "bad.yaml"), "nonMasqueradeCIDRs: [10.0.0.0/33]\n");
  expect((await cli(["apply", "--config", join(dir, "good.yaml"), "--netns", ns])).code).toBe(0);
  expect(natRules(ns, "IP-MASQ-AGENT").some((l) => l.includes("100.64.0.0/10"))).toBe(true);
  expect((await cli(["apply", "--config", join(dir, "good.yaml"), "--netns", ns])).code).toBe(0);
  expect(jumpCount(ns)).toBe(1);
  const before = natRules(ns, "IP-MASQ-AGENT");
  const bad = await cli(["apply", "--config", join(dir, "bad.yaml"), "--netns", ns]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/10\.0\.0\.0\/33/);
  expect(natRules(ns, "IP-MASQ-AGENT")).toEqual(before);
});

it("ipmasq run: settings from the environment, dashboard link, metrics, clean SIGTERM", async () => {
  const ns = pool.add("crun");
  const dir = tempDir();
  writeFileSync(join(dir, "token"), "projected-token\n");
  const d = await startFakeDashboard();
  cleanups.push(() => d.close());
  const env = {
    ...process.env,
    NODE_NAME: "node-cli",
    IPMASQ_DASHBOARD: d.url,
    IPMASQ_TOKEN_FILE: join(dir, "token"),
    IPMASQ_NETNS: ns,
    IPMASQ_STATE_DIR: join(dir, "state"),
    IPMASQ_METRICS_PORT: "0",
    IPMASQ_LOG_LEVEL: "info",
  };
  const { child, output, exited } = startCli(["run"], env);
  cleanups.push(() => child.kill("SIGKILL"));

  const hello = await d.waitFor("hello", undefined, 15_000);
  expect(hello).toMatchObject({ node: "node-cli", mode: "enforce", backend: "nf_tables" });
  expect(d.authHeaders[0]).toBe("Bearer projected-token");
  d.send({ type: "desired", v: 2, revision: 6, resourceVersion: "r6", config: defaultConfig() });
  expect(await d.waitFor("apply-result")).toMatchObject({ ok: true, revision: 6 });
  expect(jumpCount(ns)).toBe(1);
  // Structured logs on stdout; the ops port is in the "reporter running" line.
  const logLines = () =>
    output()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const port = await until(
    () => logLines().find((l) => l.msg === "reporter running")?.metricsPort,
    3_000,
  );
  expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe("ok\n");
  expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(
    /ipmasq_apply_total\{result="ok",trigger="desired"\} 1/,
  );
  // xtables-monitor runs inside the node's namespace while the reporter lives.
  await until(() => pidsIn(ns).length > 0, 3_000);

  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(output()).not.toMatch(/"level":"(error|fatal)"/);
  await until(() => pidsIn(ns).length === 0, 3_000);
});

function pidsIn(ns: string): string[] {
  return (spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "")
    .split("\n")
    .filter(Boolean);
}
