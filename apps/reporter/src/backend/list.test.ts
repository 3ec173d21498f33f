import { MAX_RULE_LINE_CHARS } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { type FakeTables, fakeIptables } from "../../test/helpers/fake-iptables.js";
import { createLister, LIST_BATCH, listable, listingScript, splitByChain } from "./list.js";

const TOOLS = { list: "iptables-nft", restore: "iptables-nft-restore" };
const nat = (...names: string[]) =>
  Object.fromEntries(names.map((n) => [n, [`-N ${n}`, `-A ${n} -j RETURN`]]));

async function listWith(t: FakeTables, names: string[]) {
  const fake = fakeIptables(t);
  const reads = await createLister(fake.run, TOOLS, "nat")(names);
  return { reads, programs: fake.calls.map((c) => c[0]) };
}

describe("listingScript", () => {
  it("holds only -S lines between the table and COMMIT", () => {
    expect(listingScript("nat", ["POSTROUTING", "cali-nat-outgoing"])).toBe(
      "*nat\n-S POSTROUTING\n-S cali-nat-outgoing\nCOMMIT\n",
    );
  });
  const refused: { desc: string; input: string }[] = [
    { desc: "an option", input: "-F" },
    { desc: "a negation", input: "!X" },
    { desc: "a second line", input: "X\n-F" },
    { desc: "a space", input: "X -F" },
    { desc: "a quote", input: 'X"' },
    { desc: "an empty name", input: "" },
    { desc: "a name longer than iptables allows", input: "C".repeat(29) },
  ];
  for (const r of refused) {
    it(`refuses ${r.desc}`, () => {
      expect(listable(r.input)).toBe(false);
      expect(() => listingScript("nat", [r.input])).toThrow(/refusing/);
    });
  }
});

describe("splitByChain", () => {
  it("gives each chain its lines, dropping warnings", () => {
    expect(
      splitByChain(
        "# Warning: iptables-legacy tables present\n-P POSTROUTING ACCEPT\n-A POSTROUTING -j A\n-N A\n-A A -j RETURN\n",
      ),
    ).toEqual(
      new Map([
        ["POSTROUTING", ["-P POSTROUTING ACCEPT", "-A POSTROUTING -j A"]],
        ["A", ["-N A", "-A A -j RETURN"]],
      ]),
    );
  });
});

describe("rule lines too long for a snapshot", () => {
  const long = `-A B -m comment --comment ${"c".repeat(MAX_RULE_LINE_CHARS)} -j RETURN`;
  const cases: {
    desc: string;
    input: { tables: FakeTables["tables"]; names: string[] };
    want: Record<string, string>;
  }[] = [
    {
      desc: "a chain with an overlong rule is an error that says so; the others are read",
      input: {
        tables: { nat: { ...nat("A", "C"), B: ["-N B", long, "-A B -j MASQUERADE"] } },
        names: ["A", "B", "C"],
      },
      want: { A: "ok", B: `error: a rule of B is ${long.length} characters`, C: "ok" },
    },
  ];
  for (const c of cases)
    it(c.desc, async () => {
      const { reads } = await listWith({ tables: c.input.tables, version: "v" }, c.input.names);
      const got = Object.fromEntries(
        [...reads].map(([n, r]) => [n, r.kind === "error" ? `error: ${r.message}` : r.kind]),
      );
      for (const [name, want] of Object.entries(c.want)) expect(got[name]).toContain(want);
      expect(splitByChain(`${long}\n`).get("B")).toEqual([long]);
    });
});

describe("createLister", () => {
  it("lists every chain in one process", async () => {
    const { reads, programs } = await listWith(
      { tables: { nat: nat("A", "B", "C") }, version: "v" },
      ["A", "B", "C"],
    );
    expect(programs).toEqual(["iptables-nft-restore"]);
    expect(reads.get("B")).toEqual({ kind: "ok", lines: ["-N B", "-A B -j RETURN"] });
  });

  it("a missing chain ends the batch: it is read alone, the rest goes on in a batch", async () => {
    const { reads, programs } = await listWith({ tables: { nat: nat("A", "C") }, version: "v" }, [
      "A",
      "B",
      "C",
    ]);
    expect(programs).toEqual(["iptables-nft-restore", "iptables-nft", "iptables-nft-restore"]);
    expect(reads.get("A")?.kind).toBe("ok");
    expect(reads.get("B")).toMatchObject({ kind: "missing", ambiguous: true });
    expect(reads.get("C")?.kind).toBe("ok");
  });

  it("a chain iptables cannot parse (printed in part) is an error, never a short chain", async () => {
    for (const namesLine of [false, true]) {
      const { reads, programs } = await listWith(
        { tables: { nat: nat("A", "B", "C") }, version: "v", unparsable: ["B"], namesLine },
        ["A", "B", "C"],
      );
      expect(programs).toEqual(["iptables-nft-restore", "iptables-nft", "iptables-nft-restore"]);
      expect(reads.get("B")).toEqual({
        kind: "error",
        message: "Error: meta sreg key not supported",
      });
      expect([reads.get("A")?.kind, reads.get("C")?.kind]).toEqual(["ok", "ok"]);
    }
  });

  it("legacy names the failing line of a missing chain", async () => {
    const { reads } = await listWith(
      { tables: { nat: nat("A", "C") }, version: "v", namesLine: true },
      ["A", "B", "C"],
    );
    expect([...["A", "B", "C"].map((n) => reads.get(n)?.kind)]).toEqual(["ok", "missing", "ok"]);
  });

  it("falls back to one process per chain when restore does not list", async () => {
    const { reads, programs } = await listWith(
      { tables: { nat: nat("A", "B") }, version: "v", restoreIgnoresList: true },
      ["A", "B"],
    );
    expect(programs).toEqual(["iptables-nft-restore", "iptables-nft", "iptables-nft"]);
    expect([...reads.values()].map((r) => r.kind)).toEqual(["ok", "ok"]);
  });

  it("never gives restore a name it must not see", async () => {
    const { reads, programs } = await listWith({ tables: { nat: nat("A") }, version: "v" }, [
      "A",
      "-F",
    ]);
    expect(programs).toEqual(["iptables-nft-restore"]);
    expect(reads.get("-F")).toMatchObject({
      kind: "error",
      message: expect.stringMatching(/not a chain name/),
    });
  });

  it("splits long lists into batches", async () => {
    const many = Array.from({ length: LIST_BATCH + 5 }, (_, i) => `C${i}`);
    const { reads, programs } = await listWith(
      { tables: { nat: nat(...many) }, version: "v" },
      many,
    );
    expect(programs).toEqual(["iptables-nft-restore", "iptables-nft-restore"]);
    expect(reads.size).toBe(many.length);
  });
});
