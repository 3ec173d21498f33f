import { type ConfigResult, parseConfigText } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { ConfigRevision } from "../store/types.js";
import { historyEntries } from "./history.js";
import { RevisionCache } from "./revision-cache.js";

const rev = (resourceVersion: string, text: string): ConfigRevision => ({
  resourceVersion,
  revision: Number(resourceVersion),
  text,
  author: "a",
  message: "",
  updatedAt: "2026-01-01T00:00:00Z",
});

function counting() {
  const parsed: string[] = [];
  const parse = (text: string): ConfigResult => {
    parsed.push(text);
    return parseConfigText(text);
  };
  return { parsed, parse };
}

describe("RevisionCache", () => {
  it("parses a revision once", () => {
    const c = counting();
    const cache = new RevisionCache(c.parse);
    const r = rev("1", "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    expect(cache.get(r)).toBe(cache.get(r));
    expect(c.parsed).toHaveLength(1);
  });

  it("re-parses when a revision id comes back with other text (a reset store)", () => {
    const c = counting();
    const cache = new RevisionCache(c.parse);
    cache.get(rev("1", "masqLinkLocal: true\n"));
    const r = cache.get(rev("1", "masqLinkLocal: false\n"));
    expect(r.ok && r.config.masqLinkLocal).toBe(false);
    expect(c.parsed).toHaveLength(2);
  });

  it("is bounded by entries and by bytes, least recently used out first", () => {
    const c = counting();
    const cache = new RevisionCache(c.parse, 2, 1_000_000);
    const [a, b, d] = [
      rev("1", "cidrLimit: 1\n"),
      rev("2", "cidrLimit: 2\n"),
      rev("3", "cidrLimit: 3\n"),
    ];
    cache.get(a);
    cache.get(b);
    cache.get(a); // a is now the most recent
    cache.get(d); // evicts b
    expect(cache.size()).toBe(2);
    cache.get(a);
    expect(c.parsed).toHaveLength(3);
    cache.get(b);
    expect(c.parsed).toHaveLength(4);

    const small = new RevisionCache(c.parse, 100, 30);
    small.get(rev("1", "# 20 characters....\n"));
    small.get(rev("2", "# 20 characters....\n"));
    expect(small.size()).toBe(1);
  });
});

describe("historyEntries", () => {
  it("parses each revision once however often the history is read", async () => {
    const c = counting();
    const cache = new RevisionCache(c.parse);
    const all = [
      rev("3", "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n"),
      rev("2", "nonMasqueradeCIDRs: [10.0.0.0/8]\n"),
      rev("1", "nonMasqueradeCIDRs: [nope]\n"),
    ];
    const first = await historyEntries(cache, all, 100);
    const second = await historyEntries(cache, all, 100);
    expect(second).toEqual(first);
    expect(c.parsed).toHaveLength(3);
    expect(first.map((e) => [e.resourceVersion, e.valid, e.diff.added])).toEqual([
      ["3", true, ["100.64.0.0/10"]],
      ["2", true, ["10.0.0.0/8"]],
      ["1", false, []],
    ]);
  });

  it("recomputes an entry whose older revision changed (the oldest after retention)", async () => {
    const cache = new RevisionCache((t) => parseConfigText(t));
    const r2 = rev("2", "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    const r1 = rev("1", "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n");
    expect((await historyEntries(cache, [r2, r1], 10))[0]!.diff.removed).toEqual(["100.64.0.0/10"]);
    expect((await historyEntries(cache, [r2], 10))[0]!.diff.added).toEqual(["10.0.0.0/8"]);
  });
});
