import { describe, expect, it } from "vitest";
import { MAX_NFT_ELEMENTS, MAX_NFT_JSON_DEPTH } from "../limits.js";
import { nftSnapshotSchema, snapshotSchema, validateMessage } from "../protocol.js";
import { helloV1Schema, snapshotV1Schema } from "../protocol-v1.js";

const table = { table: { family: "inet", name: "ip_masq_agent", handle: 1 } };
const chain = {
  chain: {
    family: "inet",
    table: "ip_masq_agent",
    name: "postrouting",
    handle: 1,
    type: "nat",
    hook: "postrouting",
    prio: 100,
    policy: "accept",
  },
};
const rule = (expr: unknown[]) => ({
  rule: { family: "inet", table: "ip_masq_agent", chain: "postrouting", handle: 4, expr },
});
const set = (elem: unknown[]) => ({
  set: {
    family: "inet",
    name: "nonmasq_v4",
    table: "ip_masq_agent",
    type: "ipv4_addr",
    handle: 2,
    flags: ["interval"],
    elem,
  },
});
let deep: unknown = "x";
for (let i = 0; i < MAX_NFT_JSON_DEPTH + 1; i++) deep = [deep];

describe("nftSnapshotSchema", () => {
  const cases: { desc: string; input: unknown; want: string | true }[] = [
    {
      desc: "the agent's table as nft -j prints it",
      input: {
        backend: "nftables",
        ruleset: [
          {
            metainfo: { version: "1.0.6", release_name: "Lester Gooch #5", json_schema_version: 1 },
          },
          table,
          set([{ prefix: { addr: "10.0.0.0", len: 8 } }, "10.1.0.1"]),
          chain,
          rule([{ masquerade: { flags: "fully-random" } }]),
          { counter: { family: "inet", name: "c", table: "ip_masq_agent", packets: 0, bytes: 0 } },
        ],
      },
      want: true,
    },
    {
      desc: "read error and unread chains",
      input: {
        backend: "nftables",
        ruleset: [],
        unread: [{ family: "ip", table: "kube-proxy", chain: "masquerading" }],
        unreadNote: "bound",
        readError: "nft: command not found",
      },
      want: true,
    },
    { desc: "another backend", input: { backend: "nf_tables", ruleset: [] }, want: "backend" },
    {
      desc: "an unknown object kind",
      input: { backend: "nftables", ruleset: [{ bogus: {} }] },
      want: "ruleset",
    },
    {
      desc: "two kinds in one entry",
      input: { backend: "nftables", ruleset: [{ counter: {}, quota: {} }] },
      want: "ruleset",
    },
    {
      desc: "an expression nested too deep",
      input: { backend: "nftables", ruleset: [rule([deep])] },
      want: "ruleset",
    },
    {
      desc: "too many elements",
      input: {
        backend: "nftables",
        ruleset: [set(Array.from({ length: MAX_NFT_ELEMENTS + 1 }, () => "10.0.0.1"))],
      },
      want: "ruleset",
    },
    {
      desc: "a family nft does not have",
      input: { backend: "nftables", ruleset: [{ table: { family: "ipv4", name: "t" } }] },
      want: "ruleset",
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const r = validateMessage(nftSnapshotSchema, input);
      if (want === true) expect(r).toEqual({ ok: true, msg: input });
      else expect(r.ok ? "valid" : r.reason).toContain(want);
    });
});

describe("snapshot messages with nftables", () => {
  const base = { type: "snapshot", seq: 1, takenAt: 1, appliedRevision: null };
  const nftables = { backend: "nftables", ruleset: [table] };
  it("v2 carries it", () =>
    expect(validateMessage(snapshotSchema, { ...base, v: 2, nftables }).ok).toBe(true));
  it("v1 stays as it was: no nftables field", () =>
    expect(validateMessage(snapshotV1Schema, { ...base, v: 1, nftables }).ok).toBe(false));
  it("v1 hellos know no nftables backend", () => {
    const hello = helloV1Schema.shape.backend;
    expect(hello.safeParse("nftables").success).toBe(false);
    expect(hello.safeParse("legacy").success).toBe(true);
  });
});
