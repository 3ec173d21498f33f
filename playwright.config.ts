// End-to-end tests of the dashboard UI in a real Chromium (Debian's /usr/bin/chromium; no
// browser download), against the production build, the file store and real reporters in
// network namespaces. The global setup starts all of it; see apps/dashboard/e2e/README.md.
import { CHROMIUM_LAUNCH } from "@masq/testkit/chromium";
import { defineConfig, devices } from "@playwright/test";

export default defineConfig({
  testDir: "apps/dashboard/e2e",
  outputDir: "test-results",
  // Network namespaces, iptables and one shared dashboard: one test at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  globalSetup: "./apps/dashboard/e2e/global-setup.ts",
  use: {
    // Every screen is kept as an artifact (plus the named screenshots the tests attach).
    screenshot: "on",
    trace: "retain-on-failure",
    video: "off",
    actionTimeout: 15_000,
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 900 },
        launchOptions: CHROMIUM_LAUNCH,
      },
    },
  ],
});
