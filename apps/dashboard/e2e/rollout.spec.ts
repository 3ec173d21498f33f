// Issue 16 in a real Chromium: a change rolled out in waves whose canary fails (its reporter's
// iptables-restore is made to fail), the automatic pause with its reason, retry once the fault
// is gone, promote to the end; a second change aborted after its canary applied it (the canary
// returns to the previous revision); two revisions compared in History.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareNodeOrder } from "@masq/shared";
import { type FaultyRestore, faultyRestore } from "@masq/testkit/faulty-restore";
import { apiGet, baseUrl, chainOf, NODES, nodeStatuses, TOKENS } from "./env.js";
import { type ExtraNode, startExtraNode } from "./extra-node.js";
import { expect, shot, signIn, test } from "./fixtures.js";

// Blocks no other spec file uses: the files share one fleet and one config.
const FIRST = "100.115.1.0/24";
const SECOND = "100.115.2.0/24";
let extra: ExtraNode | undefined;
let fault: FaultyRestore | undefined;
let dir: string | undefined;
let startYaml = "";
/** This file's node, named so that it comes first in the rollout's hash order: the canary. */
let canary = "";

test.describe.configure({ mode: "serial" });

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl() + path, {
    method,
    headers: { authorization: `Bearer ${TOKENS.admin}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** `ime-canary-N`, the first N whose name sorts before every other node's in hash order. */
async function canaryName(): Promise<string> {
  const names = Object.keys(await nodeStatuses());
  for (let i = 0; ; i++) {
    const name = `ime-canary-${i}`;
    if (names.every((n) => compareNodeOrder(name, n) < 0)) return name;
  }
}

test.beforeAll(async () => {
  startYaml = (await apiGet<{ yaml: string }>("/api/config")).yaml;
  dir = mkdtempSync(join(tmpdir(), "ime-rollout-"));
  fault = faultyRestore(dir);
  canary = await canaryName();
  extra = startExtraNode(canary, undefined, { env: fault.env });
  await expect
    .poll(async () => (await nodeStatuses())[canary], { timeout: 30_000 })
    .toBe("in-sync");
});

test.afterAll(async () => {
  fault?.fail(false);
  // Back to the file's starting config, every node at once, for the other files.
  const cur = await apiGet<{ resourceVersion: string; revision: number; yaml: string }>(
    "/api/config",
  );
  if (cur.yaml !== startYaml)
    await api("PUT", "/api/config", {
      yaml: startYaml,
      resourceVersion: cur.resourceVersion,
      strategy: { kind: "all-at-once" },
    });
  await extra?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Adds a CIDR in the editor and saves it in waves: canary 1, then 50% and 100%. */
async function saveInWaves(page: import("@playwright/test").Page, cidr: string) {
  await page.goto("/config");
  await page.getByLabel("Add CIDR").fill(cidr);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Review changes" });
  await dialog.getByLabel("In waves, canary first").check();
  await dialog.getByLabel("Canary", { exact: true }).fill("1");
  await dialog.getByLabel("Then waves, % of all nodes").fill("50, 100");
  await expect(dialog.getByText("A node of a released wave that fails to apply")).toBeVisible();
  return dialog;
}

test("a failing canary pauses the rollout; retry, then promote to the end", async ({
  page,
}, info) => {
  await signIn(page);
  fault!.fail(true);
  const dialog = await saveInWaves(page, FIRST);
  await shot(page, info, "rollout-review-waves");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(dialog).toBeHidden();

  await page.goto("/");
  const panel = page.getByRole("region", { name: "Staged rollout" });
  await expect(panel.getByRole("status")).toContainText(`paused: ${canary} failed to apply`);
  await expect(panel).toContainText("fault injected by the test");
  await expect(panel.getByLabel(/^canary: 0 of 1 applied/)).toContainText(canary);
  // Nodes the rollout has not reached keep the previous revision: in sync, rule not there.
  for (const n of NODES) expect(chainOf(n)).not.toContain(FIRST);
  expect(Object.values(await nodeStatuses()).filter((s) => s === "drifted")).toEqual([]);
  await shot(page, info, "rollout-paused-failure");
  // A node the rollout has not reached says which revision it is compared with.
  await page.goto(`/nodes/${NODES[0]}`);
  await expect(page.getByText(/Waiting in a staged rollout/)).toBeVisible();
  await expect(page.getByText(/has not reached this node's wave yet/)).toBeVisible();
  await shot(page, info, "rollout-node-held-back");
  await page.goto("/");

  fault!.fail(false);
  await panel.getByRole("button", { name: "Retry failed nodes" }).click();
  await expect(panel.getByRole("status")).toHaveText("the canary applied; paused until promoted");
  expect(chainOf(canary)).toContain(FIRST);
  await shot(page, info, "rollout-canary-applied");

  await panel.getByRole("button", { name: "Promote to the end" }).click();
  await expect(panel.getByRole("status")).toHaveText("every wave applied the revision");
  await expect(panel).toContainText("healthy");
  for (const n of [...NODES, canary]) await expect.poll(() => chainOf(n)).toContain(FIRST);
  await shot(page, info, "rollout-healthy");
});

test("abort returns the canary to the previous revision", async ({ page }, info) => {
  await signIn(page);
  const dialog = await saveInWaves(page, SECOND);
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(dialog).toBeHidden();
  await page.goto("/");
  const panel = page.getByRole("region", { name: "Staged rollout" });
  await expect(panel.getByRole("status")).toHaveText("the canary applied; paused until promoted");
  expect(chainOf(canary)).toContain(SECOND);
  await panel.getByRole("button", { name: "Abort" }).click();
  const confirm = page.getByRole("dialog", { name: "Abort the rollout?" });
  await shot(page, info, "rollout-abort-confirm");
  await confirm.getByRole("button", { name: "Abort rollout" }).click();
  await expect(panel.getByRole("status")).toContainText("aborted: every node returns to revision");
  await expect.poll(() => chainOf(canary), { timeout: 20_000 }).not.toContain(SECOND);
  for (const n of NODES) expect(chainOf(n)).not.toContain(SECOND);
  await expect.poll(async () => (await nodeStatuses())[canary]).toBe("in-sync");
  await shot(page, info, "rollout-aborted");
  // The config page says its revision is the aborted change, which nodes no longer run.
  await page.goto("/config");
  await expect(page.getByText(/^The rollout of revision \S+ was aborted$/)).toBeVisible();
  await expect(page.getByText(/a save from here includes it/)).toBeVisible();
});

test("History compares two revisions: every key old → new and the impact", async ({
  page,
}, info) => {
  const { revisions } = await apiGet<{
    revisions: { resourceVersion: string; revision: number; yaml: string }[];
  }>("/api/history");
  const newest = revisions[0]!;
  const before = revisions[1]!;
  await signIn(page, TOKENS.admin, "/history");
  const compare = page.getByRole("region", { name: "Compare revisions" });
  await compare.getByLabel("from").selectOption(before.resourceVersion);
  await compare.getByLabel("to").selectOption(newest.resourceVersion);
  await compare.getByRole("button", { name: "Compare" }).click();
  const table = compare.getByRole("table");
  await expect(table.getByRole("row", { name: /nonMasqueradeCIDRs \(changed\)/ })).toContainText(
    SECOND,
  );
  await expect(compare).toContainText(`Traffic to ${SECOND} will no longer be masqueraded`);
  await expect(page.getByRole("article").first()).toContainText(/Rollout: aborted/);
  await shot(page, info, "history-compare");
});
