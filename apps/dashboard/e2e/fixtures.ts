// Test fixtures: the dashboard's URL, signing in through the login page, named screenshots
// kept as artifacts, and a check that no page logged a console error.
import { test as base, expect, type Page, type TestInfo } from "@playwright/test";
import { baseUrl, TOKENS } from "./env.js";

/** Console messages that are expected answers, not bugs (the browser logs every non-2xx). */
const EXPECTED = [/Failed to load resource: the server responded with a status of 401/];

export const test = base.extend<{ consoleErrors: string[] }>({
  // The global setup picks the port, so the base URL is only known at run time.
  // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies as an object pattern
  baseURL: async ({}, use) => use(baseUrl()),
  consoleErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      context.on("console", (m) => {
        if (m.type() === "error" && !EXPECTED.some((re) => re.test(m.text())))
          errors.push(m.text());
      });
      context.on("weberror", (e) => errors.push(`uncaught: ${e.error().message}`));
      await use(errors);
      expect(errors, "console errors in the page").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export async function signIn(page: Page, token: string = TOKENS.admin, next = "/"): Promise<void> {
  await page.goto(next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => u.pathname === next);
}

/** Saves a screenshot of the current screen as a named artifact of the test. */
export async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  // Let transitions settle so the picture shows the state, not a fade.
  await page.waitForTimeout(300);
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: "image/png" });
}

/** Opens the rollback dialog of the newest revision that has one (History page open). */
export async function openRollback(page: Page) {
  await page
    .getByRole("button", { name: /^Roll back to revision/ })
    .first()
    .click();
  return page.getByRole("dialog", { name: /^Roll back to revision/ });
}

/** The fleet table row of one node (rows are named by their content, which starts with the name). */
export function row(page: Page, node: string) {
  return page.getByRole("row", {
    name: new RegExp(`^${node.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`),
  });
}

/** A link of the main navigation. */
export function nav(page: Page, name: "Fleet" | "Config" | "History") {
  return page.getByRole("navigation", { name: "Main" }).getByRole("link", { name });
}
