// Issue 16 part 4 in a real Chromium: the fleet on a phone (390×844: the header keeps Sign out,
// every row shows its status and a Resync that works, nothing scrolls sideways), unsaved
// config edits guarded (links, Sign out, reload/close), the IP tester's one answer for the
// current input, and the node page's kubectl card.
import type { Page } from "@playwright/test";
import { apiGet, deleteReturnRule, NODES, nodeStatuses, TOKENS } from "./env.js";
import { expect, nav, row, shot, signIn, test } from "./fixtures.js";

test.describe.configure({ mode: "serial" });

/** Right edge of an element, and the viewport width: it must not stick out. */
async function fitsViewport(page: Page, name: string, box: { x: number; width: number } | null) {
  const width = page.viewportSize()!.width;
  expect(box, `${name} has a box`).not.toBeNull();
  expect(box!.x, `${name} starts on screen`).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width, `${name} ends on screen (viewport ${width} px)`).toBeLessThanOrEqual(
    width,
  );
}

async function noSidewaysScroll(page: Page) {
  const { doc, table } = await page.evaluate(() => {
    const t = document.querySelector("table[aria-label=Nodes]")?.parentElement;
    return {
      doc: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      table: t ? t.scrollWidth - t.clientWidth : 0,
    };
  });
  expect({ doc, table }).toEqual({ doc: 0, table: 0 });
}

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("the fleet shows every node's status and Resync without a sideways scroll", async ({
    page,
  }, info) => {
    await signIn(page);
    const signOut = page.getByRole("button", { name: "Sign out" });
    await expect(signOut).toBeVisible();
    await fitsViewport(page, "Sign out", await signOut.boundingBox());
    for (const n of ["Fleet", "Config", "History"] as const)
      await fitsViewport(page, `nav ${n}`, await nav(page, n).boundingBox());
    for (const n of NODES) {
      const r = row(page, n);
      await expect(r.locator("[data-status]").first()).toHaveText("In sync");
      await fitsViewport(
        page,
        `${n} status`,
        await r.locator("[data-status]").first().boundingBox(),
      );
      const resync = r.getByRole("button", { name: "Resync" });
      await expect(resync).toBeEnabled();
      await fitsViewport(page, `${n} Resync`, await resync.boundingBox());
    }
    await noSidewaysScroll(page);
    await shot(page, info, "phone-fleet");

    // A drifted node says what differs under its name, and Resync heals it from the phone.
    const victim = NODES[1];
    deleteReturnRule(victim, "10.0.0.0/8");
    await expect(row(page, victim).locator("[data-status]").first()).toHaveText("Drifted");
    await expect(row(page, victim)).toContainText("10.0.0.0/8");
    await noSidewaysScroll(page);
    await shot(page, info, "phone-fleet-drifted");
    await row(page, victim).getByRole("button", { name: "Resync" }).tap();
    await expect(row(page, victim).locator("[data-status]").first()).toHaveText("In sync");

    // The node page fits too: its cards stack, the kubectl card included.
    await row(page, victim).getByRole("link", { name: victim }).tap();
    await expect(
      page.getByRole("heading", { name: "Would traffic be masqueraded?" }),
    ).toBeVisible();
    await noSidewaysScroll(page);
    await shot(page, info, "phone-node");

    await nav(page, "Config").tap();
    await expect(page).toHaveURL(/\/config$/);
    await expect(page.getByLabel("Add CIDR")).toBeVisible();
    await noSidewaysScroll(page);
    await shot(page, info, "phone-config");
  });
});

test("between phone and desktop (640, 768, 1024 px) the header and the fleet fit too", async ({
  page,
}, info) => {
  await signIn(page);
  for (const width of [640, 768, 1024]) {
    await page.setViewportSize({ width, height: 900 });
    await expect(row(page, NODES[0]).getByRole("button", { name: "Resync" })).toBeVisible();
    await fitsViewport(
      page,
      `Sign out at ${width}`,
      await page.getByRole("button", { name: "Sign out" }).boundingBox(),
    );
    for (const n of NODES)
      await fitsViewport(
        page,
        `${n} Resync at ${width}`,
        await row(page, n).getByRole("button", { name: "Resync" }).boundingBox(),
      );
    await noSidewaysScroll(page);
    await shot(page, info, `fleet-${width}`);
  }
});

test.describe("unsaved config edits", () => {
  const CIDR = "198.51.100.0/24";

  async function editDraft(page: Page) {
    await page.getByLabel("Add CIDR").fill(CIDR);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expect(page.getByRole("button", { name: `Remove ${CIDR}` })).toBeVisible();
  }

  test("leaving by a link or Sign out asks first; Stay keeps the draft, Leave goes", async ({
    page,
  }, info) => {
    const before = await apiGet<{ resourceVersion: string; revision: number }>("/api/config");
    await signIn(page, TOKENS.admin, "/config");
    // Nothing edited: links just work.
    await nav(page, "History").click();
    await expect(page).toHaveURL(/\/history$/);
    await nav(page, "Config").click();
    await editDraft(page);

    const dialog = page.getByRole("dialog", { name: "Leave without saving?" });
    await nav(page, "Fleet").click();
    await expect(dialog).toBeVisible();
    await shot(page, info, "unsaved-guard");
    await expect(page).toHaveURL(/\/config$/);
    await dialog.getByRole("button", { name: "Stay and keep editing" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("button", { name: `Remove ${CIDR}` })).toBeVisible();

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Stay and keep editing" }).click();
    await expect(page).toHaveURL(/\/config$/);
    await expect(page.getByRole("button", { name: `Remove ${CIDR}` })).toBeVisible();

    // The browser's Back asks too; Stay keeps the page and the draft.
    await page.goBack();
    await expect(dialog).toBeVisible();
    await expect(page).toHaveURL(/\/config$/);
    await dialog.getByRole("button", { name: "Stay and keep editing" }).click();
    await expect(page.getByRole("button", { name: `Remove ${CIDR}` })).toBeVisible();

    await nav(page, "History").click();
    await dialog.getByRole("button", { name: "Discard edits and leave" }).click();
    await expect(page).toHaveURL(/\/history$/);
    // Nothing was saved.
    expect(
      (await apiGet<{ resourceVersion: string; revision: number }>("/api/config")).revision,
    ).toBe(before.revision);
  });

  test("Back asks, and Leave goes back; after Discard, Back just goes back", async ({ page }) => {
    await signIn(page, TOKENS.admin, "/history");
    await nav(page, "Config").click();
    await editDraft(page);
    const dialog = page.getByRole("dialog", { name: "Leave without saving?" });
    await page.goBack();
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Discard edits and leave" }).click();
    await expect(page).toHaveURL(/\/history$/);

    await nav(page, "Config").click();
    await editDraft(page);
    await page.getByRole("button", { name: "Discard changes" }).click();
    await expect(page.getByRole("button", { name: `Remove ${CIDR}` })).toHaveCount(0);
    await page.goBack();
    await expect(page).toHaveURL(/\/history$/);
    await expect(dialog).toHaveCount(0);
  });

  test("reload or close asks the browser's own question; after Discard it does not", async ({
    page,
  }) => {
    await signIn(page, TOKENS.admin, "/config");
    await editDraft(page);
    const seen: string[] = [];
    page.on("dialog", (d) => {
      seen.push(d.type());
      void d.dismiss(); // stay
    });
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => seen).toEqual(["beforeunload"]);
    expect(page.isClosed()).toBe(false);
    await expect(page.getByRole("button", { name: `Remove ${CIDR}` })).toBeVisible();

    await page.getByRole("button", { name: "Discard changes" }).click();
    await expect(page.getByRole("button", { name: `Remove ${CIDR}` })).toHaveCount(0);
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => page.isClosed()).toBe(true);
    expect(seen).toEqual(["beforeunload"]);
  });
});

test("the IP tester shows one answer for the current input; the kubectl card says why it is empty", async ({
  page,
}, info) => {
  const node = NODES[0];
  await signIn(page, TOKENS.admin, `/nodes/${node}`);
  const ip = page.getByLabel("Destination IP");
  const answers = page.locator("[data-testid^=verdict-]");
  // In the tester's card (Next.js keeps an empty route announcer with role alert on the page).
  const alerts = page
    .getByRole("region", { name: "Would traffic be masqueraded?" })
    .getByRole("alert");
  await ip.fill("10.1.2.3");
  await page.getByRole("button", { name: "Check" }).click();
  await expect(page.getByTestId("verdict-actual")).toBeVisible();

  // A new, wrong input: the old verdict goes, one error stays.
  await ip.fill("10.1.2");
  await ip.blur();
  await expect(answers).toHaveCount(0);
  await expect(alerts).toHaveCount(1);
  await page.getByRole("button", { name: "Check" }).click();
  await page.getByRole("button", { name: "Check" }).click();
  await expect(alerts).toHaveCount(1);
  await expect(alerts).toContainText("10.1.2");
  await shot(page, info, "tester-one-error");

  // Typing again clears the error; a good address gets its own answer.
  await ip.fill("8.8.8.8");
  await expect(alerts).toHaveCount(0);
  await page.getByRole("button", { name: "Check" }).click();
  await expect(page.getByText("Answer for 8.8.8.8")).toBeVisible();
  await expect(answers).toHaveCount(2);

  // The e2e dashboard runs on the file store: no cluster, and the card says so.
  const card = page.getByRole("region", { name: "kubectl" });
  await expect(card).toContainText("standalone");
  expect(await nodeStatuses()).toMatchObject({ [node]: "in-sync" });
});
