// Issue 11 item 7 in a real Chromium: drift severity in the fleet, and a reporter that is
// paused (SIGSTOP: connected but silent, then dropped) — the fleet says Not responding, then
// Offline; the node page and the IP tester say they show the last known state and how old it
// is; a save shows the node pending in the rollout until it comes back and catches up.
import { jumpRuleArgs } from "@masq/shared";
import { natEdit } from "@masq/testkit/netns";
import { apiGet, baseUrl, CHAIN, chainOf, NODES, nodeStatuses, TOKENS } from "./env.js";
import { type ExtraNode, startExtraNode } from "./extra-node.js";
import { expect, row, shot, signIn, test } from "./fixtures.js";

/** A fourth node, paused and resumed by this file only. */
const NODE = "ime-delta";
const ADDED = "198.18.0.0/15";
let extra: ExtraNode | undefined;

test.describe.configure({ mode: "serial" });

function signal(sig: "SIGSTOP" | "SIGCONT"): void {
  const pid = extra?.reporter.child.pid;
  if (pid) process.kill(pid, sig);
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl() + path, {
    method,
    headers: { authorization: `Bearer ${TOKENS.admin}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

test.beforeAll(async () => {
  extra = startExtraNode(NODE);
  await expect.poll(async () => (await nodeStatuses())[NODE], { timeout: 30_000 }).toBe("in-sync");
});

test.afterAll(async () => {
  signal("SIGCONT");
  await extra?.remove();
});

test("drift severity is visible in the fleet: a missing jump is critical, a foreign rule a warning", async ({
  page,
}, info) => {
  const [critical, , warned] = NODES;
  await signIn(page);
  for (const n of [critical, warned])
    await expect(row(page, n).getByText("In sync", { exact: true })).toBeVisible();
  // Nothing is masqueraded by the agent on this one…
  natEdit(critical, ["-D", "POSTROUTING", ...jumpRuleArgs(CHAIN)]);
  // …while this one only has a rule the agent did not write (marked packets keep their IP).
  natEdit(warned, ["-I", CHAIN, "1", "-m", "mark", "--mark", "0x4000/0x4000", "-j", "RETURN"]);
  await expect(row(page, critical)).toContainText("1 critical");
  await expect(row(page, critical)).toContainText("jump missing");
  await expect(row(page, warned)).toContainText("1 warning");
  await expect(row(page, critical).locator("[data-severity=critical]")).toBeVisible();
  await expect(row(page, warned).locator("[data-severity=warning]")).toBeVisible();
  await shot(page, info, "fleet-severity");

  await page.getByRole("button", { name: /Critical/ }).click();
  await expect(page.getByRole("table", { name: "Nodes" })).toHaveAttribute("aria-rowcount", "2");
  await expect(row(page, critical)).toBeVisible();
  await page.getByRole("button", { name: /Critical/ }).click();
  // Sorted by severity: the critical node comes first.
  await page.getByRole("button", { name: "What differs" }).click();
  await expect(page.locator("tbody tr[data-node]").first()).toHaveAttribute("data-node", critical);
  await shot(page, info, "fleet-severity-sorted");

  await page.getByRole("button", { name: /Resync all drifted/ }).click();
  for (const n of [critical, warned])
    await expect(row(page, n).getByText("In sync", { exact: true })).toBeVisible();
  expect(chainOf(warned)).not.toContain("--mark");
});

test("a paused reporter: Not responding, then Offline; its page and the tester say last known, N ago", async ({
  page,
}, info) => {
  test.setTimeout(150_000);
  await signIn(page, TOKENS.admin, `/nodes/${NODE}`);
  // Live: the reporter's own schedule (default resyncInterval; in sync, nothing to heal).
  await expect(
    page.getByText(
      /^(In sync: nothing to heal\. Next resync|At the next resync), in \d+ ?(s|min)\.$/,
    ),
  ).toBeVisible();
  await expect(page.getByText(/re-applies every 1 min;/)).toBeVisible();
  await page.getByRole("link", { name: "All nodes" }).click();
  await expect(row(page, NODE).locator("[data-liveness=live]")).toBeVisible();
  signal("SIGSTOP");
  // Connected but silent for two heartbeats (10 s each): flagged, not shown as healthy.
  await expect(row(page, NODE).getByText("Not responding", { exact: true })).toBeVisible({
    timeout: 45_000,
  });
  // Its status is Unknown, never its last known "In sync".
  await expect(row(page, NODE).locator("[data-status=unknown]")).toBeVisible();
  await expect(row(page, NODE).getByTestId("last-known")).toHaveText(
    /^last known, (just now|\d+s ago)$/,
  );
  await shot(page, info, "fleet-not-responding");
  // Three heartbeats: the dashboard drops the connection.
  await expect(row(page, NODE).getByText("Offline", { exact: true }).first()).toBeVisible({
    timeout: 45_000,
  });

  await row(page, NODE).getByRole("link", { name: NODE }).click();
  await expect(page.getByRole("heading", { name: NODE })).toBeVisible();
  await expect(page.getByText(/Last known state, .*: the reporter is offline/)).toBeVisible();
  await expect(page.getByText(/Nothing differed when last known, /)).toBeVisible();
  await expect(page.getByText(/Not known: the reporter is offline/)).toBeVisible();
  await expect(
    page.getByText(/Type a destination; the answer comes from this node's last known rules, /),
  ).toBeVisible();
  await page.getByLabel("Destination IP").fill("10.1.2.3");
  await page.getByRole("button", { name: "Check" }).click();
  await expect(page.getByText(/Answered from this node's last known rules, /)).toBeVisible();
  await shot(page, info, "node-last-known");
});

test("a save while the node is offline: pending in the rollout, applied when it returns", async ({
  page,
}, info) => {
  test.setTimeout(120_000);
  const before = await apiGet<{
    resourceVersion: string;
    revision: number;
    yaml: string;
    config: { nonMasqueradeCIDRs: string[] };
  }>("/api/config");
  await signIn(page);
  await expect(row(page, NODE).getByText("Offline", { exact: true }).first()).toBeVisible();
  await api("PUT", "/api/config", {
    config: { ...before.config, nonMasqueradeCIDRs: [...before.config.nonMasqueradeCIDRs, ADDED] },
    resourceVersion: before.resourceVersion,
    message: "while one node is away",
  });
  const live = NODES.length;
  await expect(
    page.getByText(new RegExp(`Rolling out revision \\S+: ${live} of ${live + 1} nodes applied`)),
  ).toBeVisible();
  await expect(page.getByText("1 offline, pending until it reconnects")).toBeVisible();
  await shot(page, info, "fleet-rollout-offline-pending");

  signal("SIGCONT");
  await expect(
    page.getByText(new RegExp(`rolled out to ${live + 1} of ${live + 1} nodes`)),
  ).toBeVisible({ timeout: 60_000 });
  await expect.poll(() => chainOf(NODE), { timeout: 30_000 }).toContain(`-d ${ADDED}`);
  await expect(row(page, NODE).locator("[data-liveness=live]")).toBeVisible();
  await shot(page, info, "fleet-rollout-caught-up");

  // Leave the config as it was for the other files.
  const now = await apiGet<{ resourceVersion: string; revision: number }>("/api/config");
  await api("PUT", "/api/config", {
    yaml: before.yaml,
    resourceVersion: now.resourceVersion,
    message: "undo",
  });
});
