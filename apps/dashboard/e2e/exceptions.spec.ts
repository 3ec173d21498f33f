// masqueradeCIDRs (issue 14 part 1): an exception added in the editor is checked as typed,
// its impact reviewed (the range and the entry deciding it), saved, and applied by every node:
// the real chains hold its MASQUERADE before the RETURN that contains it, and the node page
// shows the rule. The config is put back afterwards for the other spec files.
import type { MasqConfig } from "@masq/shared";
import { apiGet, baseUrl, chainOf, NODES, TOKENS } from "./env.js";
import { expect, shot, signIn, test } from "./fixtures.js";

const EXCEPTION = "10.100.10.0/24";

let restore: { config: MasqConfig } | undefined;

test.afterAll(async () => {
  if (!restore) return;
  const current = await apiGet<{ resourceVersion: string; revision: number }>("/api/config");
  const res = await fetch(`${baseUrl()}/api/config`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKENS.admin}`, "content-type": "application/json" },
    body: JSON.stringify({
      config: restore.config,
      resourceVersion: current.resourceVersion,
      message: "exceptions.spec: put the config back",
    }),
  });
  expect(res.status).toBe(200);
});

test("an exception is reviewed with its range, saved, and every node applies it", async ({
  page,
}, info) => {
  restore = await apiGet<{ config: MasqConfig }>("/api/config");
  await signIn(page, TOKENS.admin, "/config");
  // The shared validation, as typed: a block of the other list is refused, named.
  await page.getByLabel("Add exception").fill("10.0.0.0/8");
  await page.getByRole("button", { name: "Add exception", exact: true }).click();
  await expect(
    page
      .getByRole("alert")
      .filter({ hasText: "10.0.0.0/8 is in masqueradeCIDRs and in nonMasqueradeCIDRs" }),
  ).toBeVisible();

  await page.getByLabel("Add exception").fill(EXCEPTION);
  await page.getByRole("button", { name: "Add exception", exact: true }).click();
  await expect(page.getByRole("button", { name: `Remove ${EXCEPTION}` })).toBeVisible();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Review changes" });
  await expect(dialog).toBeVisible();
  await expect(
    dialog.getByText(
      `Traffic to ${EXCEPTION} will be masqueraded on ${NODES.length} nodes: it leaves with the node's IP (decided by masqueradeCIDRs ${EXCEPTION}).`,
    ),
  ).toBeVisible();
  await shot(page, info, "exception-review");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(/Saved revision \d+/)).toBeVisible();

  // Every node's real chain: the exception's MASQUERADE comes before the RETURN for 10.0.0.0/8.
  for (const n of NODES) {
    await expect
      .poll(() => chainOf(n), { message: `${n} applies ${EXCEPTION}` })
      .toMatch(
        new RegExp(
          `-d ${EXCEPTION.replace(/\./g, "\\.")} .*MASQUERADE[^]*-d 10\\.0\\.0\\.0/8 .*RETURN`,
        ),
      );
  }
  await page.goto(`/nodes/${NODES[0]}`);
  await expect(
    page.getByText(`${EXCEPTION} is masqueraded (masqueradeCIDRs)`).first(),
  ).toBeVisible();
  await shot(page, info, "exception-node");
});
