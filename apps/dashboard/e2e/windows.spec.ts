// A Windows node in the same views: a real `ipmasq run --windows-cni` reporter managing a CNI
// config file (flannel win-overlay), shown, drifted by hand and healed from the browser.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeToken } from "@masq/shared/node-token";
import { cniConfigText } from "@masq/testkit/cni-configs";
import { type ChildHandle, startReporter } from "@masq/testkit/processes";
import { baseUrl, TOKENS } from "./env.js";
import { expect, row, shot, signIn, test } from "./fixtures.js";

const NODE = "ime-windows";
let dir: string;
let cni: string;
let reporter: ChildHandle | undefined;

test.describe.configure({ mode: "serial" });

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ime-win-"));
  cni = join(dir, "10-flannel.conflist");
  writeFileSync(cni, cniConfigText("flannel-win-overlay.conflist"));
  reporter = startReporter({
    node: NODE,
    windowsCni: cni,
    dashboard: `${baseUrl().replace(/^http/, "ws")}/api/reporter`,
    token: nodeToken(TOKENS.reporter, NODE),
    stateDir: join(dir, "state"),
    logFile: join(dir, "reporter.log"),
  });
});

test.afterAll(async () => {
  await reporter?.stop();
  // Forget the node so later runs start from the Linux fleet only.
  await fetch(`${baseUrl()}/api/nodes/${NODE}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${TOKENS.admin}` },
  });
  rmSync(dir, { recursive: true, force: true });
});

test("a Windows node shows its ExceptionList, turns Drifted on a hand edit and Resync heals it", async ({
  page,
}, info) => {
  await signIn(page);
  const r = row(page, NODE);
  await expect(r.getByText("Windows", { exact: true })).toBeVisible();
  await expect(r.getByText("In sync", { exact: true })).toBeVisible();

  writeFileSync(cni, readFileSync(cni, "utf8").replace('"10.0.0.0/8",', ""));
  await expect(r.getByText("Drifted", { exact: true })).toBeVisible();
  await r.getByRole("link", { name: NODE }).click();
  await expect(page.getByRole("heading", { name: /Windows node: OutBoundNAT/ })).toBeVisible();
  await expect(
    page.getByRole("list", { name: "ExceptionList" }).getByText("missing 10.0.0.0/8"),
  ).toBeVisible();
  await shot(page, info, "windows-node-drifted");

  await page.getByRole("button", { name: "Resync" }).click();
  await expect(
    page.getByRole("list", { name: "ExceptionList" }).getByText("missing 10.0.0.0/8"),
  ).toHaveCount(0);
  await expect(page.getByText("In sync", { exact: true }).first()).toBeVisible();
  expect(readFileSync(cni, "utf8")).toContain('"10.0.0.0/8"');
  await shot(page, info, "windows-node-healed");
});
