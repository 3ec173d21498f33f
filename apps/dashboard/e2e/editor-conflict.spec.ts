// Two people editing at once: a save on a stale revision is explained with the other change
// next to mine, nothing is overwritten, and my edit can be re-applied on top of theirs.
import type { MasqConfig } from "@masq/shared";
import { apiGet, baseUrl, TOKENS } from "./env.js";
import { expect, shot, signIn, test } from "./fixtures.js";

const MINE = "198.18.0.0/15";
const THEIRS = "203.0.113.0/24";

async function saveBehindTheirBack(cidr: string): Promise<number> {
  const current = await apiGet<{ resourceVersion: string; revision: number; config: MasqConfig }>(
    "/api/config",
  );
  const res = await fetch(`${baseUrl()}/api/config`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKENS.admin}`, "content-type": "application/json" },
    body: JSON.stringify({
      config: {
        ...current.config,
        nonMasqueradeCIDRs: [...current.config.nonMasqueradeCIDRs, cidr],
      },
      resourceVersion: current.resourceVersion,
      message: "someone else's change",
    }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { revision: number }).revision;
}

test("a stale save is explained with their change, never overwritten, and can be re-applied", async ({
  page,
}, info) => {
  await signIn(page, TOKENS.admin, "/config");
  await page.getByLabel("Add CIDR").fill(MINE);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("button", { name: `Remove ${MINE}` })).toBeVisible();

  const theirRevision = await saveBehindTheirBack(THEIRS);
  // The editor learns about it live, before I even press Save.
  await expect(
    page.getByText(`Revision ${theirRevision} was saved while you were editing`),
  ).toBeVisible();

  // Already knowing about their revision, Save goes straight to the comparison.
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const conflict = page.getByRole("dialog", { name: "Someone else saved a change" });
  await expect(conflict).toBeVisible();
  await expect(conflict.getByText(THEIRS)).toBeVisible();
  await expect(conflict.getByText(MINE)).toBeVisible();
  await shot(page, info, "config-conflict");
  // Nothing of mine was written over theirs.
  const stored = await apiGet<{ resourceVersion: string; revision: number; config: MasqConfig }>(
    "/api/config",
  );
  expect(stored.revision).toBe(theirRevision);
  expect(stored.config.nonMasqueradeCIDRs).not.toContain(MINE);

  await conflict.getByRole("button", { name: "Re-apply my changes on top" }).click();
  const review = page.getByRole("dialog", { name: "Review changes" });
  await expect(review).toBeVisible();
  await review.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText(/Saved revision \d+/)).toBeVisible();
  const after = await apiGet<{ config: MasqConfig }>("/api/config");
  expect(after.config.nonMasqueradeCIDRs).toEqual(expect.arrayContaining([MINE, THEIRS]));
});
