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
let reporter: ChildHandle;

test.describe.configure({ mode: "serial" });

/** One dashboard replica (pod `pod`) as the chart runs it; resolves to its URL once ready. */
async function startReplica(kubeconfig: string, pod: string): Promise<string> {
  const port = await freePort();
  const at = `http://127.0.0.1:${port}`;
  const out = openSync(join(dir, `${pod}.log`), "a");
  const dash = spawn(process.execPath, [DASHBOARD_BIN], {
    cwd: join(REPO_ROOT, "apps/dashboard"),
    env: {
      ...process.env,
      ...fake.dashboardEnv(pod),
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
  await until(async () => (await fetch(`${at}/readyz`)).ok, 60_000, 250, `replica ${pod}`);
  return at;
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  fake = await new FakeKubeApi().start();
  dir = mkdtempSync(join(tmpdir(), "ime-kube-"));
  const kubeconfig = join(dir, "kubeconfig");
  // client-node reads YAML or JSON; this is the dashboard ServiceAccount's view of the cluster.
  writeFileSync(kubeconfig, JSON.stringify(JSON.parse(fake.kubeConfig().exportConfig())));
  url = await startReplica(kubeconfig, "ipmasq-dashboard-0");

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
  reporter = startReporter({
    node: NODE,
    netns: NODE,
    dashboard: `${url.replace(/^http/, "ws")}/api/reporter`,
    token: "e2e-kube-reporter",
    stateDir: join(dir, "state"),
    logFile: join(dir, "reporter.log"),
    env: { IPMASQ_POLL_INTERVAL: "2s" },
  });
  children.push(reporter);
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

test("on another replica, a node's page says where its rules, tester and history are, and how to get there", async ({
  page,
}, info) => {
  test.setTimeout(120_000);
  const other = await startReplica(join(dir, "kubeconfig"), "ipmasq-dashboard-1");
  const auth = { headers: { authorization: `Bearer ${TOKENS.admin}` } };
  await until(
    async () => {
      const r = await fetch(`${other}/api/nodes/${NODE}`, auth);
      return r.ok && (await r.json()).node?.heldBy?.replica === "ipmasq-dashboard-0";
    },
    30_000,
    200,
    "the other replica shows the node as held by the first",
  );
  await page.goto(`${other}/login?next=${encodeURIComponent(`/nodes/${NODE}`)}`);
  await page.getByLabel("Token").fill(TOKENS.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => u.pathname === `/nodes/${NODE}`);
  const forward = "kubectl port-forward -n kube-system pod/ipmasq-dashboard-0 8080:http";
  const tester = page.getByRole("region", { name: "Would traffic be masqueraded?" });
  await expect(tester).toContainText(
    "the node's reporter is connected to replica ipmasq-dashboard-0",
  );
  await expect(tester).toContainText(forward);
  // No Check button that could only fail (evaluate is a 409 on this replica).
  await expect(tester.getByRole("button", { name: "Check" })).toHaveCount(0);
  await expect(page.getByTestId("history-elsewhere")).toContainText(
    "This replica keeps no history of this node",
  );
  await expect(page.getByText("No events yet.")).toHaveCount(0);
  // No rules here to show raw.
  await expect(page.getByRole("checkbox")).toHaveCount(0);
  await expect(page.getByText(forward).first()).toBeVisible();
  await shot(page, info, "node-held-elsewhere");

  // Its reporter stops; the replica it left is alive and has its last known rules and history:
  // still offered, as the replica that held it last, never as a live connection.
  await reporter.stop();
  await until(
    async () => {
      const r = await fetch(`${other}/api/nodes/${NODE}`, auth);
      const d = r.ok ? await r.json() : undefined;
      return d?.node?.connected === false && d?.heldElsewhere?.lastHolder === true;
    },
    30_000,
    200,
    "the other replica shows the node disconnected from a live replica",
  );
  await page.reload();
  await expect(tester).toContainText("the node's reporter is connected to no replica now");
  await expect(tester).toContainText("Replica ipmasq-dashboard-0, which held it last");
  await expect(tester).not.toContainText("is connected to replica ipmasq-dashboard-0");
  await expect(page.getByTestId("open-holder")).toContainText(forward);
  await expect(page.getByTestId("open-holder")).toContainText("which held it last");
});
