// Issue 15 in a real Chromium: a node whose kube-proxy runs in nftables mode (its `ip
// kube-proxy` table loaded), so the reporter's `--backend auto` manages the agent's own nftables
// table. The fleet shows it in sync; its page names the backend and shows every nat postrouting
// chain in priority order; `nft delete element` by hand turns it Drifted with the CIDR named,
// and Resync heals it.
import { NFT_SET_V4, NFT_TABLE } from "@masq/shared";
import { kubeProxyNftScript } from "@masq/testkit/kube-proxy-nft";
import { inNetns } from "@masq/testkit/netns";
import { nodeStatuses, TOKENS } from "./env.js";
import { type ExtraNode, startExtraNode } from "./extra-node.js";
import { expect, nav, row, shot, signIn, test } from "./fixtures.js";

/** A node of this file only (not a prefix of the others' names). */
const NODE = "ime-nft";
let extra: ExtraNode | undefined;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  extra = startExtraNode(NODE, undefined, { nft: kubeProxyNftScript(5) });
  await expect.poll(async () => (await nodeStatuses())[NODE], { timeout: 30_000 }).toBe("in-sync");
});

test.afterAll(async () => {
  await extra?.remove();
});

/** The first element of the agent's IPv4 set as nft lists it (a prefix, e.g. 10.0.0.0/8). */
function firstElement(): string {
  const out = inNetns(NODE, ["nft", "-j", "list", "set", "inet", NFT_TABLE, NFT_SET_V4]);
  const set = (JSON.parse(out).nftables as { set?: { elem: unknown[] } }[]).find((o) => o.set)!;
  const e = set.set!.elem[0] as { prefix: { addr: string; len: number } };
  return `${e.prefix.addr}/${e.prefix.len}`;
}

test("an nftables node: backend named, in sync, every nat postrouting chain; a hand edit drifts it, Resync heals", async ({
  page,
}, info) => {
  await signIn(page, TOKENS.admin, `/nodes/${NODE}`);
  await expect(page.getByText("backend nftables")).toBeVisible();
  const path = page.getByTestId("nat-path").first();
  await expect(path).toContainText("every nat postrouting chain (nftables), in priority order");
  await expect(path.getByTestId("backends")).toContainText("Native nftables:");
  await expect(path.getByTestId("backends")).toContainText("ip kube-proxy nat-postrouting");
  await expect(path.getByTestId("backends")).toContainText(`inet ${NFT_TABLE} postrouting`);
  // kube-proxy's chain runs at srcnat, as the agent's: not "before the agent's chain".
  await expect(path).toContainText(
    "masquerades at the agent's chain's priority (which of the two runs first is not in the rules)",
  );
  await expect(path).not.toContainText("before the agent's chain");
  // nft words, not iptables': no POSTROUTING jump, nft rules to show.
  await expect(page.locator("[data-jump]").first()).toHaveText(
    /^nat postrouting: the agent's base chain is hooked/,
  );
  await expect(page.getByLabel("Show nft rules")).toBeVisible();
  await expect(page.getByText("Show iptables rules")).toHaveCount(0);
  // The set's elements are not numbered as rules are (each was "1.").
  const kept = `${firstElement()} keeps pod IP`;
  const element = page.locator("tr", { hasText: kept }).first();
  // Its title, then what it does (the role's tag).
  await expect(element.locator("td").first()).toHaveText(`${kept} RETURN`);
  await shot(page, info, "nft-node-in-sync");

  const cidr = firstElement();
  inNetns(NODE, ["nft", "delete", "element", "inet", NFT_TABLE, NFT_SET_V4, `{ ${cidr} }`]);
  await nav(page, "Fleet").click();
  await expect(
    page.getByText("Every node's masquerade rules (the agent's iptables chain, its nftables table"),
  ).toBeVisible();
  // Live: nft monitor → the reporter → the fleet view, no reload.
  await expect(row(page, NODE).getByText("Drifted", { exact: true })).toBeVisible();
  await row(page, NODE).getByRole("link", { name: NODE }).click();
  await expect(page.getByText(`${cidr} is missing from @${NFT_SET_V4}`).first()).toBeVisible();
  await shot(page, info, "nft-node-drifted");

  await nav(page, "Fleet").click();
  await row(page, NODE).getByRole("button", { name: "Resync" }).click();
  await expect(row(page, NODE).getByText("In sync", { exact: true })).toBeVisible();
  await expect.poll(() => firstElement()).toBe(cidr);
  expect((await nodeStatuses())[NODE]).toBe("in-sync");
});
