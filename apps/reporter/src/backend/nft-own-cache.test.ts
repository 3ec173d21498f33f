import { describe, expect, it } from "vitest";
import type { MonitorEvent } from "../watcher.js";
import type { Nft, NftList } from "./nft-exec.js";
import { parseNftMonitorLine } from "./nft-monitor.js";
import {
  hasEventlessSet,
  type OwnKey,
  ownEventEffect,
  ownKeys,
  ownTableCache,
  patchListing,
  readOwnTable,
} from "./nft-own-cache.js";

// The agent's table as `nft -j list table inet ip_masq_agent` (1.0.6) lists it: the table,
// sets and maps, chains, then each chain's rules in chain order.
const T = { family: "inet", table: "ip_masq_agent" };
const table = { table: { family: "inet", name: "ip_masq_agent", handle: 1 } };
const set = (elem: unknown[]) => ({
  set: { ...T, name: "nonmasq_v4", type: "ipv4_addr", handle: 1, flags: ["interval"], elem },
});
const vmap = { map: { ...T, name: "vm", type: "ipv4_addr", handle: 5, map: "verdict" } };
const chain = (name: string, handle: number, base = false) => ({
  chain: {
    ...T,
    name,
    handle,
    ...(base ? { type: "nat", hook: "postrouting", prio: 100, policy: "accept" } : {}),
  },
});
const rule = (c: string, handle: number, expr: unknown[]) => ({
  rule: { ...T, chain: c, handle, expr },
});
const RETURN = [{ match: { op: "==", left: "x", right: "@nonmasq_v4" } }, { return: null }];
const LISTING = [
  table,
  set(["192.0.2.1"]),
  vmap,
  chain("postrouting", 2, true),
  chain("extra", 6),
  rule("postrouting", 3, RETURN),
  rule("postrouting", 4, [{ masquerade: null }]),
  rule("extra", 7, [{ counter: null }]),
];

const ev = (line: string): MonitorEvent => parseNftMonitorLine(line);

describe("ownEventEffect", () => {
  it.each<{ desc: string; input: string; want: OwnKey | "whole" }>([
    {
      desc: "an element of a set",
      input: "delete element inet ip_masq_agent nonmasq_v4 { 10.0.0.0/8 }",
      want: "set nonmasq_v4",
    },
    {
      desc: "a rule",
      input: "add rule inet ip_masq_agent postrouting handle 9 counter",
      want: "chain postrouting",
    },
    {
      desc: "a set declared",
      input: "add set inet ip_masq_agent late { type ipv4_addr; }",
      want: "whole",
    },
    { desc: "a chain deleted", input: "delete chain inet ip_masq_agent extra", want: "whole" },
    { desc: "the table", input: "delete table inet ip_masq_agent", want: "whole" },
    {
      desc: "another object",
      input: "add counter inet ip_masq_agent hits { packets 0 bytes 0 }",
      want: "whole",
    },
    { desc: "lost events", input: "# ERROR: We lost some netlink events!", want: "whole" },
  ])("$desc", ({ input, want }) => {
    expect(ownEventEffect(ev(input))).toBe(want);
  });
});

describe("ownKeys", () => {
  it.each<{ desc: string; input: unknown[]; want: string[] | undefined }>([
    {
      desc: "sets, maps and chains",
      input: LISTING,
      want: ["set nonmasq_v4", "set vm", "chain postrouting", "chain extra"],
    },
    {
      desc: "a set whose elements time out (no events): none",
      input: [table, { set: { ...T, name: "t", flags: ["timeout"] } }],
      want: undefined,
    },
    {
      desc: "a set the packet path updates: none",
      input: [table, { set: { ...T, name: "d", flags: ["dynamic"] } }],
      want: undefined,
    },
  ])("$desc", ({ input, want }) => {
    const keys = ownKeys(input);
    expect(keys ? [...keys] : undefined).toEqual(want);
  });
});

describe("hasEventlessSet", () => {
  it.each<{ desc: string; input: unknown[]; want: boolean }>([
    { desc: "interval sets and maps", input: LISTING, want: false },
    {
      desc: "a set with a default timeout",
      input: [table, { set: { ...T, name: "t", timeout: 30 } }],
      want: true,
    },
    {
      desc: "a map the packet path updates",
      input: [table, { map: { ...T, name: "m", flags: ["dynamic"] } }],
      want: true,
    },
  ])("$desc", ({ input, want }) => {
    expect(hasEventlessSet(input)).toBe(want);
  });
});

describe("patchListing", () => {
  it.each<{ desc: string; key: OwnKey; fresh: unknown[]; want: unknown[] | undefined }>([
    {
      desc: "a set's elements",
      key: "set nonmasq_v4",
      fresh: [set(["192.0.2.1", "198.51.100.7"])],
      want: LISTING.with(1, set(["192.0.2.1", "198.51.100.7"])),
    },
    {
      desc: "a chain's rules, in the chain's place",
      key: "chain postrouting",
      fresh: [
        chain("postrouting", 2, true),
        rule("postrouting", 9, []),
        rule("postrouting", 4, []),
      ],
      want: [
        ...LISTING.slice(0, 5),
        rule("postrouting", 9, []),
        rule("postrouting", 4, []),
        LISTING[7],
      ],
    },
    {
      desc: "a chain's rules all deleted",
      key: "chain extra",
      fresh: [chain("extra", 6)],
      want: LISTING.slice(0, 7),
    },
    {
      desc: "a chain that had no rules (their place is unknown)",
      key: "chain extra",
      fresh: [chain("extra", 6), rule("extra", 8, [])],
      want: undefined,
    },
    { desc: "an object not in the listing", key: "set gone", fresh: [vmap], want: undefined },
    {
      desc: "a listing of something else",
      key: "set nonmasq_v4",
      fresh: [vmap],
      want: undefined,
    },
  ])("$desc", ({ desc, key, fresh, want }) => {
    const base = desc.includes("had no rules") ? LISTING.slice(0, 7) : LISTING;
    expect(patchListing(base, key, fresh)).toEqual(want);
  });
});

/** An nft whose lists answer from a table of listings, recording each command. */
function fakeNft(answers: Record<string, NftList>) {
  const calls: string[] = [];
  const nft = {
    list: async (kind: string, ref: { name?: string }) => {
      const k = `${kind} ${ref.name ?? ""}`.trim();
      calls.push(k);
      return answers[k] ?? { kind: "missing", message: "no" };
    },
  } as unknown as Nft;
  return { nft, calls };
}
const ok = (objects: unknown[]): NftList => ({ kind: "ok", objects });

describe("ownTableCache + readOwnTable", () => {
  const fresh = set(["198.51.100.7"]);
  const nftFor = () =>
    fakeNft({ table: ok(LISTING), "set nonmasq_v4": ok([fresh]), "map vm": ok([vmap]) });
  const readWith = async (cache: ReturnType<typeof ownTableCache>, nft: Nft) => {
    const token = cache.begin();
    const r = await readOwnTable(nft, T, token);
    cache.store(token, r.kind === "ok" ? r.objects : undefined);
    return r;
  };
  const ELEMENT = "add element inet ip_masq_agent nonmasq_v4 { 198.51.100.7 }";

  it("lists only the set an element event touched, once the table was listed whole", async () => {
    const cache = ownTableCache();
    cache.clear(true);
    const { nft, calls } = nftFor();
    await readWith(cache, nft);
    cache.note(ev(ELEMENT));
    expect(await readWith(cache, nft)).toEqual(ok(LISTING.with(1, fresh)));
    expect(await readWith(cache, nft)).toEqual(ok(LISTING.with(1, fresh)));
    expect(calls).toEqual(["table", "set nonmasq_v4"]);
  });

  it("lists a map by its own command", async () => {
    const cache = ownTableCache();
    cache.clear(true);
    const { nft, calls } = nftFor();
    await readWith(cache, nft);
    cache.note(ev("add element inet ip_masq_agent vm { 192.0.2.9 : return }"));
    await readWith(cache, nft);
    expect(calls).toEqual(["table", "map vm"]);
  });

  it.each<{ desc: string; events: string[]; follow: boolean; want: string[] }>([
    { desc: "without a monitor", events: [ELEMENT], follow: false, want: ["table", "table"] },
    {
      desc: "a set declared",
      events: ["add set inet ip_masq_agent late { type ipv4_addr; }"],
      follow: true,
      want: ["table", "table"],
    },
    {
      desc: "an element of a set the listing does not hold",
      events: ["add element inet ip_masq_agent other { 192.0.2.1 }"],
      follow: true,
      want: ["table", "table"],
    },
    {
      desc: "a set that is gone when listed",
      events: ["add element inet ip_masq_agent vm { 192.0.2.9 : return }"],
      follow: true,
      want: ["table", "map vm", "table"],
    },
  ])("lists the table whole: $desc", async ({ events, follow, want }) => {
    const cache = ownTableCache();
    cache.clear(follow);
    const { nft, calls } = fakeNft({ table: ok(LISTING) });
    await readWith(cache, nft);
    for (const e of events) cache.note(ev(e));
    await readWith(cache, nft);
    expect(calls).toEqual(want);
  });

  it("keeps an object stale when an event touches it during the read that lists it", async () => {
    const cache = ownTableCache();
    cache.clear(true);
    const { nft, calls } = nftFor();
    await readWith(cache, nft);
    cache.note(ev(ELEMENT));
    const token = cache.begin();
    const r = await readOwnTable(nft, T, token);
    cache.note(ev(ELEMENT)); // committed after the set was listed, perhaps
    cache.store(token, r.kind === "ok" ? r.objects : undefined);
    await readWith(cache, nft);
    expect(calls).toEqual(["table", "set nonmasq_v4", "set nonmasq_v4"]);
  });

  it("lists the table whole after a failed read", async () => {
    const cache = ownTableCache();
    cache.clear(true);
    const { nft, calls } = nftFor();
    await readWith(cache, nft);
    cache.note(ev(ELEMENT));
    cache.store(cache.begin(), undefined);
    const token = cache.begin();
    expect(token.keys).toEqual(["set nonmasq_v4"]);
    cache.clear(true);
    await readWith(cache, nft);
    expect(calls).toEqual(["table", "table"]);
  });
});
