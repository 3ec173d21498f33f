// Issue 11 items 1 and 8 in a real Chromium: a node whose real nat table has the issue's item-1
// shape (kube-proxy's KUBE-POSTROUTING, a CNI bridge chain masquerading its pod range before
// IP-MASQ-AGENT). Its page shows the path with components and the CNI chain's NAT; the tester
// answers "depends" for 10.20.30.40 with the CNI condition, and, given a source outside the CNI
// range and mark 0, "not masqueraded" by IP-MASQ-AGENT rule 2. One answer for the input.
import { ISSUE_ITEM1_NODE } from "@masq/testkit/node-dumps";
import { nodeStatuses, TOKENS } from "./env.js";
import { type ExtraNode, startExtraNode } from "./extra-node.js";
import { expect, shot, signIn, test } from "./fixtures.js";

/** A node of this file only (not a prefix of the others' names). */
const NODE = "ime-path";
const CNI = "CNI-0a1b2c3d4e5f60718293a4b5";
let extra: ExtraNode | undefined;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  extra = startExtraNode(NODE, ISSUE_ITEM1_NODE);
  // Its own chain follows the config; the CNI chain before it masquerades some pods.
  await expect.poll(async () => (await nodeStatuses())[NODE], { timeout: 30_000 }).toBe("drifted");
});

test.afterAll(async () => {
  await extra?.remove();
});

test("the node page shows the nat path: chains, components, the CNI chain's NAT before the agent", async ({
  page,
}, info) => {
  await signIn(page, TOKENS.admin, `/nodes/${NODE}`);
  const path = page.getByTestId("nat-path");
  await expect(path).toContainText("The nat path: chains POSTROUTING reaches, in order");
  await expect(path.locator('[data-chain="KUBE-POSTROUTING"]')).toContainText("kube-proxy");
  await expect(path.locator(`[data-chain="${CNI}"]`)).toContainText("CNI bridge plugin (ipMasq)");
  await expect(path.locator(`[data-chain="${CNI}"]`)).toContainText(
    "rule 2 masquerades before the agent's chain",
  );
  await expect(path.locator('[data-chain="IP-MASQ-AGENT"]')).toContainText("ip-masq-agent");
  await expect(path.locator("[data-kind=jump-shadowed]")).toContainText(
    `${CNI} rule 2 (CNI bridge plugin (ipMasq)) masquerades traffic before IP-MASQ-AGENT is reached`,
  );
  await expect(path.getByTestId("backends")).toHaveText(/^Rules read from iptables-/);
  await shot(page, info, "node-path");
});

test("the tester: depends for 10.20.30.40 with the CNI condition; a known packet gets one answer", async ({
  page,
}, info) => {
  await signIn(page, TOKENS.admin, `/nodes/${NODE}`);
  const actual = page.getByTestId("verdict-actual");
  const alerts = page
    .getByRole("region", { name: "Would traffic be masqueraded?" })
    .getByRole("alert");
  await page.getByLabel("Destination IP").fill("10.20.30.40");
  await page.getByRole("button", { name: "Check" }).click();
  await expect(actual).toHaveAttribute("data-answer", "depends");
  // Not the configured answer: the node's card reads as a problem.
  await expect(actual).toHaveAttribute("data-differs", "true");
  await expect(actual).toContainText("Depends on the packet");
  await expect(actual).toContainText("Unmarked packets (pod traffic as it usually is): depends");
  await expect(actual).toContainText(
    `If source in 10.100.64.64/26: masqueraded by ${CNI} rule 2 (CNI bridge plugin (ipMasq))`,
  );
  await expect(actual).toContainText(
    "If source not in 10.100.64.64/26: keeps its address (IP-MASQ-AGENT rule 2 (ip-masq-agent) returns it)",
  );
  await expect(actual).toContainText(
    "Packets with mark bit 0x4000 set (kube-proxy marks service traffic it SNATs): masqueraded",
  );
  await shot(page, info, "tester-depends");
  // The first screen as it is (README's docs/images/node.png is taken from this one).
  await page.screenshot({ path: info.outputPath("tester-depends-viewport.png") });

  await page.getByText("Packet details (optional)").click();
  await page.getByLabel("Source pod IP").fill("10.100.65.70");
  await page.getByLabel("Mark").fill("0");
  await page.getByRole("button", { name: "Check" }).click();
  await expect(actual).toHaveAttribute("data-answer", "not-masqueraded");
  await expect(actual).not.toHaveAttribute("data-differs");
  await expect(actual).toContainText("Not masqueraded: keeps the pod IP");
  await expect(actual).toContainText("Deciding rule: IP-MASQ-AGENT rule 2 (ip-masq-agent)");
  await expect(
    page.getByText("Answer for 10.20.30.40 (from 10.100.65.70, mark 0x0)"),
  ).toBeVisible();
  await shot(page, info, "tester-not-masqueraded");

  // An input error replaces the answer; errors never stack.
  await page.getByLabel("Mark").fill("zz");
  await page.getByRole("button", { name: "Check" }).click();
  await expect(alerts).toHaveText(
    'Mark "zz": a mark is a number from 0 to 0xffffffff, e.g. 0 or 0x4000.',
  );
  await expect(actual).toBeHidden();
  await page.getByLabel("Destination IP").fill("10.20.30");
  await page.getByRole("button", { name: "Check" }).click();
  await expect(alerts).toHaveText('"10.20.30" is not an IP address.');
  await expect(actual).toBeHidden();
  await shot(page, info, "tester-input-error");
});

// A new user's find: "Resync all drifted" counted and resynced this node, and its page promised
// a heal at the next resync, though a resync rewrites only the agent's chain and its jump.
test("a node drifted only by another component's chain: no resync promises to heal it", async ({
  page,
}, info) => {
  const OTHERS = /what differs is only other components' rules on the path/;
  await signIn(page, TOKENS.admin, `/nodes/${NODE}`);
  const resync = page.getByRole("button", { name: "Resync", exact: true });
  await expect(resync).toBeEnabled();
  await expect(resync).toHaveAttribute(
    "title",
    /^Re-apply the agent's rules on this node; it stays drifted: what differs is only other components' rules/,
  );
  const heal = page.locator("[data-heal]");
  await expect(heal.getByRole("heading")).toHaveText("Next resync");
  await expect(heal).toContainText("Drifted, but not in anything a resync changes (see below).");
  await expect(heal).not.toContainText("healed at the next resync");
  await shot(page, info, "resync-cannot-heal");

  await signIn(page, TOKENS.admin, "/");
  const row = page.locator(`tr[data-node="${NODE}"]`);
  await expect(row.getByRole("button", { name: "Resync" })).toHaveAttribute("title", OTHERS);
  const bulk = page.getByRole("button", { name: /^Resync all drifted/ });
  await expect(bulk).toHaveAttribute(
    "title",
    /drifted nodes? (is|are) left alone: a resync would not change (it|them) \(what differs is only other components' rules/,
  );
});
