// Issue 16 part 3 in a real Chromium, with the dashboard as the chart runs it (Kubernetes store,
// the chart's environment and RBAC, the test API server standing in for the cluster) and a real
// reporter in its own network namespace: the node page's kubectl card lists the Node's and the
// reporter Pod's commands and copies them; applying and drift are recorded as Kubernetes Events
// on the Node, where `kubectl describe node` looks for them.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { addNetns, deleteNetns, deleteReturnRule } from "@masq/testkit/netns";
import {
  type ChildHandle,
  DASHBOARD_BIN,
  freePort,
  REPO_ROOT,
  startReporter,
  stopChild,
} from "@masq/testkit/processes";
import { until } from "@masq/testkit/wait";
import { TOKENS } from "./env.js";
import { expect, shot, test } from "./fixtures.js";

const NODE = "ime-kube";
let fake: FakeKubeApi;
let url = "";
let dir = "";
const children: ChildHandle[] = [];

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  fake = await new FakeKubeApi().start();
  dir = mkdtempSync(join(tmpdir(), "ime-kube-"));
  const kubeconfig = join(dir, "kubeconfig");
  // client-node reads YAML or JSON; this is the dashboard ServiceAccount's view of the cluster.
  writeFileSync(kubeconfig, JSON.stringify(JSON.parse(fake.kubeConfig().exportConfig())));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const out = openSync(join(dir, "dashboard.log"), "a");
  const dash = spawn(process.execPath, [DASHBOARD_BIN], {
    cwd: join(REPO_ROOT, "apps/dashboard"),
    env: {
      ...process.env,
      ...fake.dashboardEnv(),
      KUBECONFIG: kubeconfig,
      PORT: String(port),
      HOST: "127.0.0.1",
      IPMASQ_ADMIN_TOKEN: TOKENS.admin,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", out, out],
  });
  children.push({ child: dash, stop: (ms) => stopChild(dash, ms) });
  await until(async () => (await fetch(`${url}/readyz`)).ok, 60_000, 250, "the dashboard");

  // A node of the cluster, and its reporter with a projected token bound to it.
  fake.addNode(NODE);
  fake.addToken(
    "e2e-kube-reporter",
    {
      username: fake.chart!.reporterUser,
      extra: { "authentication.kubernetes.io/node-name": [NODE] },
    },
    ["ipmasq-dashboard"],
  );
  deleteNetns(NODE);
  addNetns(NODE);
  children.push(
    startReporter({
      node: NODE,
      netns: NODE,
      dashboard: `${url.replace(/^http/, "ws")}/api/reporter`,
      token: "e2e-kube-reporter",
      stateDir: join(dir, "state"),
      logFile: join(dir, "reporter.log"),
      env: { IPMASQ_POLL_INTERVAL: "2s" },
    }),
  );
  // The node page of a node the dashboard does not know yet is a 404 (a console error here).
  await until(
    async () =>
      (
        await fetch(`${url}/api/nodes/${NODE}`, {
          headers: { authorization: `Bearer ${TOKENS.admin}` },
        })
      ).ok,
    30_000,
    100,
    "the dashboard knows the node",
  );
});

test.afterAll(async () => {
  for (const c of children.reverse()) await c.stop();
  deleteNetns(NODE);
  await fake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const nodeEvents = () => fake.events({ kind: "Node", name: NODE });

test("the node page offers kubectl commands for the Node and its reporter Pod, ready to copy", async ({
  page,
  context,
}, info) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
  await page.goto(`${url}/login?next=${encodeURIComponent(`/nodes/${NODE}`)}`);
  await page.getByLabel("Token").fill(TOKENS.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => u.pathname === `/nodes/${NODE}`);
  const card = page.getByRole("region", { name: "kubectl" });
  await expect(card.getByRole("listitem")).toHaveCount(4);
  await expect(card).toContainText(`kubectl describe node ${NODE}`);
  const podSelector =
    "app.kubernetes.io/name=ipmasq-dashboard,app.kubernetes.io/instance=ipmasq,app.kubernetes.io/component=reporter";
  await expect(card).toContainText(
    `kubectl get pods -n kube-system -l ${podSelector} --field-selector spec.nodeName=${NODE} -o wide`,
  );
  await card.getByRole("button", { name: "Copy: The reporter's logs" }).click();
  await expect(card.getByRole("button", { name: "Copy: The reporter's logs" })).toHaveText(
    "Copied",
  );
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
    `kubectl logs -n kube-system --tail=200 $(kubectl get pods -n kube-system -l ${podSelector} --field-selector spec.nodeName=${NODE} -o name)`,
  );
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header back on top
  await shot(page, info, "node-kubectl");
});

test("applying and drift become Kubernetes Events on the Node, as kubectl describe node finds them", async () => {
  await expect
    .poll(() => nodeEvents().map((e) => e.reason), { timeout: 30_000 })
    .toContain("Applied");
  deleteReturnRule(NODE, "10.0.0.0/8");
  await expect
    .poll(() => nodeEvents().map((e) => e.reason), { timeout: 30_000 })
    .toContain("Drifted");
  const drifted = nodeEvents().find((e) => e.reason === "Drifted");
  expect(drifted).toMatchObject({
    type: "Warning",
    metadata: { namespace: "default" },
    involvedObject: { kind: "Node", name: NODE, uid: NODE },
    source: { component: "ipmasq-dashboard" },
  });
  expect(drifted.message).toContain("10.0.0.0/8");
});
