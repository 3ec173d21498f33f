import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, desiredExceptions } from "@masq/shared";
import { CNI_CONFIGS_DIR as FIXTURES } from "@masq/testkit/cni-configs";
import { afterEach, expect, it } from "vitest";
import { startCli } from "./helpers/cli-process.js";
import { startFakeDashboard } from "./helpers/dashboard.js";
import { outsideValues, valueAt } from "./helpers/json-span.js";

const LIST = "/plugins/0/policies/0/Value/ExceptionList";
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

it("ipmasq run --windows-cni: Windows hello, apply, healthz, clean SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "imr-wincli-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const cniDir = join(dir, "net.d");
  const cni = join(cniDir, "10-calico.conflist");
  mkdirSync(cniDir);
  copyFileSync(join(FIXTURES, "calico-windows.conflist"), cni);
  const before = readFileSync(cni, "utf8");
  writeFileSync(join(dir, "token"), "projected-token\n");
  const d = await startFakeDashboard();
  cleanups.push(() => d.close());

  const env = {
    ...process.env,
    NODE_NAME: "win-cli",
    IPMASQ_DASHBOARD: d.url,
    IPMASQ_TOKEN_FILE: join(dir, "token"),
    IPMASQ_MODE: "enforce",
    IPMASQ_STATE_DIR: join(dir, "state"),
    IPMASQ_METRICS_PORT: "0",
    IPMASQ_HEAL: "next-resync",
    IPMASQ_POLL_INTERVAL: "10s",
    IPMASQ_MASQ_CHAIN: "IP-MASQ-AGENT",
    IPMASQ_RANDOM_FULLY: "true",
    IPMASQ_TO_PORTS: "",
    IPMASQ_ENABLE_IPV6: "false",
    IPMASQ_NOMASQ_ALL_RESERVED_RANGES: "false",
    IPMASQ_LOG_LEVEL: "info",
    IPMASQ_WINDOWS_CNI: cni,
  };
  delete (env as Record<string, string | undefined>).IPMASQ_NETNS;
  const { child, output, exited } = startCli(["run", "--windows-cni", cni], env);
  cleanups.push(() => child.kill("SIGKILL"));

  const hello = await d.waitFor("hello", undefined, 15_000);
  expect(hello).toMatchObject({ node: "win-cli", os: "windows", backend: "cni", mode: "enforce" });
  expect(d.authHeaders[0]).toBe("Bearer projected-token");
  expect((await d.waitFor("snapshot")).windows?.lists[0]?.exceptions).toEqual(["10.96.0.0/12"]);
  d.send({ type: "desired", v: 2, revision: 2, resourceVersion: "r2", config: defaultConfig() });
  expect(await d.waitFor("apply-result")).toMatchObject({ ok: true, changed: true, revision: 2 });

  const after = readFileSync(cni, "utf8");
  expect(valueAt(after, LIST)).toEqual(desiredExceptions(defaultConfig()));
  expect(outsideValues(after, [LIST])).toEqual(outsideValues(before, [LIST]));
  expect(readdirSync(cniDir).sort()).toEqual(
    [
      "10-calico.conflist",
      "10-calico.conflist.ipmasq-backup",
      "10-calico.conflist.ipmasq-original",
    ].sort(),
  );

  const logLines = () =>
    output()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  let port: unknown;
  for (let i = 0; i < 60 && port === undefined; i++) {
    port = logLines().find((l) => l.msg === "reporter running")?.metricsPort;
    if (port === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe("ok\n");

  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(output()).not.toMatch(/"level":"(error|fatal)"/);
});
