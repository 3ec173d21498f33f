// The operator's journeys of issue 5, in a real Chromium against the production build, the
// file store and real reporters enforcing real iptables rules in network namespaces.
import { deleteReturnRule } from "@masq/testkit/netns";
import { apiGet, baseUrl, chainOf, NODES, nodeStatuses, TOKENS } from "./env.js";
import { expect, nav, row, shot, signIn, test } from "./fixtures.js";

const NEW_CIDR = "100.64.0.0/10";

test.describe.configure({ mode: "serial" });

test("the fleet shows every node in sync, live", async ({ page }, info) => {
  await signIn(page);
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
  for (const n of NODES) {
    await expect(row(page, n).getByText("In sync", { exact: true })).toBeVisible();
  }
  await expect(page.getByRole("table", { name: "Nodes" })).toHaveAttribute(
    "aria-rowcount",
    String(NODES.length + 1),
  );
  // The page's own stream, and every node's reporter, are live.
  await expect(page.getByTitle("Live updates from the dashboard")).toHaveText("Live");
  for (const n of NODES) await expect(row(page, n).locator("[data-liveness=live]")).toBeVisible();
  await shot(page, info, "fleet");
});

test("an invalid CIDR is explained inline and nothing is saved", async ({ page }, info) => {
  const before = await apiGet<{ resourceVersion: string; revision: number }>("/api/config");
  await signIn(page, TOKENS.admin, "/config");
  await page.getByLabel("Add CIDR").fill("10.0.0.1/8");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const alert = page
    .getByRole("alert")
    .filter({ hasText: "10.0.0.1/8 is not aligned; did you mean 10.0.0.0/8?" });
  await expect(alert).toBeVisible();
  await expect(page.getByLabel("Add CIDR")).toHaveAttribute("aria-invalid", "true");
  // Not added, so nothing to save.
  await expect(page.getByRole("button", { name: "Remove 10.0.0.1/8" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Save", exact: true })).toBeDisabled();
  await shot(page, info, "config-invalid-cidr");
  const after = await apiGet<{ resourceVersion: string; revision: number }>("/api/config");
  expect(after.revision).toBe(before.revision);
});

test("a valid CIDR is reviewed, saved, and every node applies it", async ({ page }, info) => {
  await signIn(page, TOKENS.admin, "/config");
  await page.getByLabel("Add CIDR").fill(NEW_CIDR);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("button", { name: `Remove ${NEW_CIDR}` })).toBeVisible();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Review changes" });
  await expect(dialog).toBeVisible();
  await expect(
    dialog.getByText(
      `Traffic to ${NEW_CIDR} will no longer be masqueraded on ${NODES.length} nodes`,
    ),
  ).toBeVisible();
  await shot(page, info, "config-review");
  await dialog.getByLabel(/Change note/).fill("keep pod IPs towards the CGNAT range");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(/Saved revision \d+/)).toBeVisible();
  // The rollout lands on every node: the real chains hold the new rule…
  for (const n of NODES) {
    await expect
      .poll(() => chainOf(n), { message: `${n} applies ${NEW_CIDR}` })
      .toContain(`-d ${NEW_CIDR}`);
  }
  await expect(
    page.getByText(new RegExp(`rolled out to ${NODES.length} of ${NODES.length} nodes`)),
  ).toBeVisible();
  await shot(page, info, "config-saved");
  // …and the fleet says so.
  await nav(page, "Fleet").click();
  for (const n of NODES)
    await expect(row(page, n).getByText("In sync", { exact: true })).toBeVisible();
});

test("a chain broken by hand turns Drifted, the node view explains it, Resync heals it", async ({
  page,
}, info) => {
  const victim = NODES[1];
  await signIn(page);
  await expect(row(page, victim).getByText("In sync", { exact: true })).toBeVisible();
  deleteReturnRule(victim, "10.0.0.0/8");
  // Live: no reload.
  await expect(row(page, victim).getByText("Drifted", { exact: true })).toBeVisible();
  await expect(row(page, victim)).toContainText("missing 10.0.0.0/8");
  await shot(page, info, "fleet-drifted");

  await row(page, victim).getByRole("link", { name: victim }).click();
  await expect(page.getByRole("heading", { name: victim })).toBeVisible();
  await expect(page.getByText("10.0.0.0/8 is missing")).toBeVisible();
  await expect(page.getByRole("cell").filter({ hasText: "missing on node" })).toBeVisible();
  await page.getByLabel("Destination IP").fill("10.1.2.3");
  await page.getByRole("button", { name: "Check" }).click();
  await expect(
    page.getByText("This node treats 10.1.2.3 differently than configured"),
  ).toBeVisible();
  await expect(page.getByText("Deciding rule: IP-MASQ-AGENT rule 2")).toBeVisible();
  await shot(page, info, "node-drifted");

  await nav(page, "Fleet").click();
  await row(page, victim).getByRole("button", { name: "Resync" }).click();
  await expect(row(page, victim).getByText("In sync", { exact: true })).toBeVisible();
  await expect.poll(() => chainOf(victim)).toContain("-d 10.0.0.0/8");
  await shot(page, info, "fleet-healed");
  expect((await nodeStatuses())[victim]).toBe("in-sync");
});

test("rolling back to a revision restores it on every node", async ({ page }, info) => {
  await signIn(page, TOKENS.admin, "/history");
  const first = page.getByRole("article", { name: "Revision 1" });
  await expect(first).toBeVisible();
  await expect(page.getByRole("article").first()).toContainText("current");
  await shot(page, info, "history");
  await first.getByRole("button", { name: "Roll back to revision 1" }).click();
  const dialog = page.getByRole("dialog", { name: "Roll back to revision 1?" });
  await expect(dialog).toContainText(NEW_CIDR);
  await shot(page, info, "history-rollback-confirm");
  await dialog.getByRole("button", { name: "Roll back" }).click();
  await expect(dialog).toBeHidden();
  const newest = page.getByRole("article").first();
  await expect(newest).toContainText("rollback to revision 1");
  await expect(newest).toContainText(`removed ${NEW_CIDR}`);
  for (const n of NODES) {
    await expect
      .poll(() => chainOf(n), { message: `${n} drops ${NEW_CIDR}` })
      .not.toContain(NEW_CIDR);
  }
  await shot(page, info, "history-rolled-back");
});

test("a viewer sees everything read-only and cannot change anything", async ({ page }, info) => {
  await signIn(page, TOKENS.viewer, "/config");
  await expect(page.getByText("You are signed in as a viewer")).toBeVisible();
  await expect(page.getByLabel("Add CIDR")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Save", exact: true })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Remove / })).toHaveCount(0);
  await expect(page.getByRole("switch", { name: "masqLinkLocal", exact: true })).toBeDisabled();
  await shot(page, info, "config-viewer");
  // The server refuses a viewer's write even when the UI is bypassed.
  const csrf = (await page.context().cookies()).find((c) => c.name === "ipmasq_csrf")?.value ?? "";
  const config = await apiGet<{ resourceVersion: string; revision: number; yaml: string }>(
    "/api/config",
  );
  const put = await page.request.put("/api/config", {
    data: { yaml: config.yaml, resourceVersion: config.resourceVersion },
    headers: { "x-csrf-token": csrf },
  });
  expect(put.status()).toBe(403);

  await nav(page, "Fleet").click();
  for (const n of NODES)
    await expect(row(page, n).getByRole("button", { name: "Resync" })).toBeDisabled();
  await expect(page.getByRole("button", { name: /Resync all drifted/ })).toHaveCount(0);
  await expect(page.getByText("Read-only: viewers cannot resync")).toBeVisible();
  await shot(page, info, "fleet-viewer");
  await nav(page, "History").click();
  await expect(page.getByRole("article").first()).toBeVisible();
  await expect(page.getByRole("button", { name: /Roll back/ })).toHaveCount(0);
});

test("a browser whose session ended is told why on the login page", async ({ page }, info) => {
  await signIn(page, TOKENS.viewer, "/history");
  // The session id no longer known here (as after a dashboard restart).
  const url = new URL(page.url());
  // Off the page first: its live queries would see the 401 too and navigate while a reload
  // runs (net::ERR_ABORTED); the server's answer to a page load is what is tested here.
  await page.goto("about:blank");
  await page
    .context()
    .addCookies([{ name: "ipmasq_session", value: "no-such-session", url: url.origin }]);
  await page.goto(`${url.origin}/history`);
  await page.waitForURL((u) => u.pathname === "/login");
  expect(new URL(page.url()).searchParams.get("ended")).toBe("unknown");
  expect(new URL(page.url()).searchParams.get("next")).toBe("/history");
  await expect(page.getByText(/Your session is no longer known here/)).toBeVisible();
  await shot(page, info, "login-session-ended");
});

test("every screen in dark mode", async ({ browser }, info) => {
  const context = await browser.newContext({
    baseURL: baseUrl(),
    colorScheme: "dark",
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on(
    "console",
    (m) => m.type() === "error" && !/status of 401/.test(m.text()) && errors.push(m.text()),
  );
  await page.goto("/login");
  await shot(page, info, "dark-login");
  await page.getByLabel("Token").fill(TOKENS.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(row(page, NODES[0]).getByText("In sync", { exact: true })).toBeVisible();
  await shot(page, info, "dark-fleet");
  await page.goto(`/nodes/${NODES[0]}`);
  await expect(page.getByText("Desired vs actual, rule by rule")).toBeVisible();
  await shot(page, info, "dark-node");
  await page.goto("/config");
  await expect(page.getByLabel("Add CIDR")).toBeVisible();
  await shot(page, info, "dark-config");
  await page.goto("/history");
  await expect(page.getByRole("article").first()).toBeVisible();
  await shot(page, info, "dark-history");
  await context.close();
  expect(errors).toEqual([]);
});
