// A node whose reporter will not come back, forgotten from its page in a real Chromium: the
// Forget button shows only for an offline node, asks first, and the node leaves the fleet (an
// operator using only the browser had no way to remove it before IPMASQ_OFFLINE_NODE_TTL).
import { nodeStatuses } from "./env.js";
import { type ExtraNode, startExtraNode } from "./extra-node.js";
import { expect, row, shot, signIn, test } from "./fixtures.js";

/** A node of this file only, its reporter stopped for good once it is in sync. */
const NODE = "ime-forget";
let extra: ExtraNode | undefined;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  extra = startExtraNode(NODE);
  await expect.poll(async () => (await nodeStatuses())[NODE], { timeout: 30_000 }).toBe("in-sync");
});

test.afterAll(async () => {
  await extra?.remove();
});

test("an offline node is forgotten from its page, after a confirmation", async ({ page }, info) => {
  await signIn(page, undefined, `/nodes/${NODE}`);
  // Connected: nothing to forget.
  await expect(page.getByRole("button", { name: "Resync" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Forget", exact: true })).toHaveCount(0);

  await extra!.reporter.stop();
  const forget = page.getByRole("button", { name: "Forget", exact: true });
  await expect(forget).toBeVisible({ timeout: 15_000 });
  await forget.click();
  const dialog = page.getByRole("dialog", { name: `Forget ${NODE}?` });
  await expect(dialog).toContainText("Nothing changes on the node");
  await shot(page, info, "forget-node");
  // Cancel keeps it.
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  expect((await nodeStatuses())[NODE]).toBe("offline");

  await forget.click();
  await page
    .getByRole("dialog")
    .getByRole("button", { name: `Forget ${NODE}` })
    .click();
  await expect(page).toHaveURL(/\/$/);
  await expect(row(page, NODE)).toHaveCount(0);
  expect((await nodeStatuses())[NODE]).toBeUndefined();
});
