// A native nftables node through the real server and protocol: a reporter that says backend
// `nftables` and sends `nft -j` output of real nft (kube-proxy's nftables table and the agent's
// table) is judged by the shared nftables analysis; the node page names both nat postrouting
// chains, and POST /api/nodes/:name/evaluate folds them in priority order.
import { DEFAULT_FLAGS, type NftSnapshot, PROTOCOL_VERSION } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { nftDump } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually, perTest, reporterToken, startServer } from "./helpers/server.js";

const t = perTest();

async function nftNode(name: string, dump: string): Promise<void> {
  const r = await SimReporter.raw({ url: t.server!.url, token: reporterToken(name), node: name });
  t.sims.push(r);
  r.send(helloFor(name, { backend: "nftables", mode: "observe", flags: DEFAULT_FLAGS }));
  await r.waitFor((m) => m.type === "welcome");
  const ruleset = (nftDump(dump) as { nftables: NftSnapshot["ruleset"] }).nftables;
  r.send({
    type: "snapshot",
    v: PROTOCOL_VERSION,
    seq: 1,
    takenAt: Date.now(),
    appliedRevision: null,
    nftables: { backend: "nftables", ruleset },
  });
}

describe("native nftables node", () => {
  it("is judged, shown and asked like an iptables node, with the backend named", async () => {
    t.server = await startServer();
    await nftNode("nft-a", "kube-proxy-agent");
    const detail = await eventually(
      async () => {
        const r = await t.server!.api("/api/nodes/nft-a");
        return r.body?.view ? r.body : undefined;
      },
      5000,
      "node view",
    );
    expect(detail.node.status).toBe("in-sync");
    const family = detail.view.families[0];
    expect(family.nftables.hooks.map((h: { ref: string }) => h.ref)).toEqual([
      "ip kube-proxy nat-postrouting",
      "inet ip_masq_agent postrouting",
    ]);
    expect(family.rows[2].actual.text).toContain("ip daddr @nonmasq_v4 return");

    const ask = async (body: Record<string, unknown>) =>
      (await t.server!.api("/api/nodes/nft-a/evaluate", { method: "POST", body })).body.actual;
    const cases: { desc: string; input: Record<string, unknown>; want: boolean | null }[] = [
      { desc: "outside the set", input: { ip: "203.0.113.9" }, want: true },
      { desc: "inside the set, unmarked", input: { ip: "10.1.2.3", mark: 0 }, want: false },
      {
        desc: "inside the set, kube-proxy's mark",
        input: { ip: "10.1.2.3", mark: 0x4000 },
        want: true,
      },
      { desc: "inside the set, mark unknown", input: { ip: "10.1.2.3" }, want: null },
    ];
    for (const c of cases)
      expect([c.desc, (await ask(c.input)).masqueraded]).toEqual([c.desc, c.want]);
  });

  it("a hand-deleted element is drift named by CIDR", async () => {
    t.server = await startServer();
    await nftNode("nft-b", "agent-hand-edit");
    const summary = await eventually(
      async () => {
        const r = await t.server!.api("/api/nodes/nft-b");
        return r.body?.view ? r.body.view.report.summary : undefined;
      },
      5000,
      "node view",
    );
    expect(summary).toContain("missing 10.0.0.0/8");
  });
});
