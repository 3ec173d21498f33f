// Config from several sources (issue 14 part 2): a second source (an `ip-masq-*` file of the
// file store's data dir, as a platform team's ConfigMap would be) is merged and applied by every
// node with its provenance shown; a conflict from it is shown and never pushed; picking that
// source in the editor, reviewing the merged result and saving resolves it. The files are
// removed afterwards and the nodes are back on the config alone.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiGet, chainOf, dataDir, NODES } from "./env.js";
import { expect, nav, openRollback, shot, signIn, test } from "./fixtures.js";

const PLATFORM = "ip-masq-platform";
const TEAM = "ip-masq-team";
const CGNAT = "100.64.0.0/10";
const TEAM_CIDR = "198.51.100.0/24";

const write = (name: string, text: string) => writeFileSync(join(dataDir(), name), text);
const onEveryNode = (cidr: string, present: boolean) =>
  expect
    .poll(() => NODES.every((n) => chainOf(n).includes(`-d ${cidr} `) === present), {
      timeout: 20_000,
    })
    .toBe(true);

test.describe.configure({ mode: "serial" });

test.afterAll(async () => {
  rmSync(join(dataDir(), PLATFORM), { force: true });
  rmSync(join(dataDir(), TEAM), { force: true });
  await onEveryNode(CGNAT, false);
  await onEveryNode(TEAM_CIDR, false);
});

test("a second source is merged, applied by every node, and each CIDR names its source", async ({
  page,
}, info) => {
  write(PLATFORM, `nonMasqueradeCIDRs: [${CGNAT}]\n`);
  await onEveryNode(CGNAT, true);
  await signIn(page, undefined, "/config");
  const merged = page.getByRole("region", { name: /Merged config \(2 sources\)/ });
  await expect(merged).toBeVisible();
  const row = merged.getByRole("row", { name: new RegExp(CGNAT.replace(/[./]/g, "\\$&")) });
  await expect(row).toContainText(`file ${PLATFORM}`);
  await expect(merged.getByRole("row", { name: /^10\.0\.0\.0\/8/ })).toContainText(
    "file config.yaml",
  );
  await shot(page, info, "config-sources");
});

test("a conflict from a second source is shown, never pushed, and resolved in the editor", async ({
  page,
}, info) => {
  write(TEAM, `nonMasqueradeCIDRs: [${TEAM_CIDR}]\nresyncInterval: 5s\n`);
  // The dashboard reads the sources every second: the page is opened once it has.
  await expect
    .poll(
      async () => (await apiGet<{ merge: { pushable: boolean } }>("/api/config")).merge.pushable,
    )
    .toBe(false);
  await signIn(page, undefined, "/config");
  const alert = page
    .getByRole("alert")
    .filter({ hasText: "conflict between config sources" })
    .first();
  await expect(alert).toContainText(
    `resyncInterval differs between sources: 60s (file config.yaml) vs 5s (file ${TEAM})`,
  );
  const cfg = await apiGet<{ merge: { pushable: boolean } }>("/api/config");
  expect(cfg.merge.pushable).toBe(false);
  await onEveryNode(TEAM_CIDR, false); // never pushed half-way
  await shot(page, info, "config-sources-conflict");

  await page
    .getByLabel("Source to edit")
    .selectOption({ label: `file ${TEAM} — invalid`.replace(" — invalid", "") });
  const text = page.getByLabel(new RegExp(`^file ${TEAM}`));
  await text.fill(`nonMasqueradeCIDRs: [${TEAM_CIDR}]\n`);
  await page.getByRole("button", { name: "Review merged result" }).click();
  const preview = page.getByRole("region", { name: "Merged result" });
  await expect(preview).toContainText(TEAM_CIDR);
  await expect(preview).toContainText(`Traffic to ${TEAM_CIDR} will no longer be masqueraded`);
  await page.getByRole("button", { name: `Save ${TEAM}` }).click();
  await expect(page.getByText(`Saved file ${TEAM}`)).toBeVisible();
  await expect(alert).toBeHidden();
  await onEveryNode(TEAM_CIDR, true);

  // History says which source changed, and that the conflicting version was never pushed.
  await nav(page, "History").click();
  const changes = page.getByRole("region", { name: "Changes of the other config sources" });
  await expect(changes.getByRole("listitem").first()).toContainText(
    `file ${TEAM} changed by admin`,
  );
  await expect(changes).toContainText(`file ${TEAM} added`);
  await expect(changes).toContainText("not pushed: the sources conflicted");
  await shot(page, info, "history-sources");

  // A rollback's impact is the merge nodes would get, not the stored text: the sources' CIDRs stay.
  const rollback = await openRollback(page);
  await expect(
    rollback.getByText(/merged with the other config sources as they are now/),
  ).toBeVisible();
  const cidrs = rollback.getByRole("row", { name: /^nonMasqueradeCIDRs/ });
  await expect(cidrs.getByRole("cell").nth(2)).toContainText(TEAM_CIDR);
  await expect(cidrs.getByRole("cell").nth(2)).toContainText(CGNAT);
  await shot(page, info, "rollback-merged");
  await rollback.getByRole("button", { name: "Cancel" }).click();
});
