import { nftDump, nftDumpText } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { baseChainsOn, parseNftJson, parseNftText } from "./parse.js";

/** Tables as `family name: chains (base ones with hook/priority) | sets`. */
function shape(input: unknown) {
  const rs = parseNftJson(input);
  return {
    version: rs.version,
    tables: [...rs.tables.values()].map(
      (t) =>
        `${t.family} ${t.name}: ${[...t.chains.values()].map((c) => (c.base ? `${c.name}(${c.base.type} ${c.base.hook} ${c.base.priority} ${c.base.policy})` : c.name)).join(" ")} | ${[...t.sets.values()].map((s) => `${s.kind} ${s.name}[${s.elem.length}]`).join(" ")}`,
    ),
    errors: rs.errors.map((e) => e.reason.slice(0, 18)),
  };
}

describe("parseNftJson", () => {
  const cases: { desc: string; input: unknown; want: ReturnType<typeof shape> }[] = [
    {
      desc: "the agent's table with IPv6 and ports",
      input: nftDump("agent-ipv6-ports"),
      want: {
        version: "1.0.6",
        tables: [
          "inet ip_masq_agent: postrouting(nat postrouting 100 accept) | set nonmasq_v4[3] set nonmasq_v6[2]",
        ],
        errors: [],
      },
    },
    {
      desc: "a bare nftables array is read too",
      input: (nftDump("agent-default") as { nftables: unknown[] }).nftables,
      want: {
        version: "1.0.6",
        tables: ["inet ip_masq_agent: postrouting(nat postrouting 100 accept) | set nonmasq_v4[4]"],
        errors: [],
      },
    },
    {
      desc: "not nft output",
      input: { nftables: "no" },
      want: {
        version: undefined,
        tables: [],
        errors: ["not nft -j output:"],
      },
    },
    {
      desc: "null",
      input: null,
      want: { version: undefined, tables: [], errors: ["not nft -j output:"] },
    },
  ];
  for (const { desc, input, want } of cases) it(desc, () => expect(shape(input)).toEqual(want));

  it("kube-proxy's table: maps, base chains on every hook, concatenated types", () => {
    const rs = parseNftJson(nftDump("kube-proxy-agent"));
    const kp = rs.tables.get("ip kube-proxy")!;
    expect(kp.sets.get("service-ips")).toMatchObject({
      kind: "map",
      type: ["ipv4_addr", "inet_proto", "inet_service"],
      map: ["verdict"],
    });
    expect(
      baseChainsOn(rs, "postrouting", "nat").map((b) => `${b.table.name} ${b.chain.name}`),
    ).toEqual(["kube-proxy nat-postrouting", "ip_masq_agent postrouting"]);
  });

  it("text that is not JSON", () => {
    expect(parseNftText("{").errors[0]?.reason).toMatch(/^not JSON/);
    expect(parseNftText(nftDumpText("agent-default")).errors).toEqual([]);
  });
});
