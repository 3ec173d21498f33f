import { describe, expect, it } from "vitest";
import { ByteLru } from "./byte-lru.js";

describe("ByteLru", () => {
  it("evicts the least recently used entries until the bytes fit", () => {
    const c = new ByteLru<string>(100);
    c.set("a", "A", 40);
    c.set("b", "B", 40);
    expect(c.get("a")).toBe("A"); // a is now the most recently used
    c.set("c", "C", 40);
    expect([c.get("a"), c.get("b"), c.get("c")]).toEqual(["A", undefined, "C"]);
    expect(c.bytes).toBe(80);
    c.set("d", "D", 90);
    expect(c.size).toBe(1);
    expect(c.bytes).toBe(90);
  });

  it("replaces an entry's size and refuses values over the budget", () => {
    const c = new ByteLru<number>(100);
    c.set("a", 1, 60);
    c.set("a", 2, 30);
    expect(c.bytes).toBe(30);
    c.set("big", 3, 101);
    expect(c.get("big")).toBeUndefined();
    expect(c.get("a")).toBe(2);
    c.delete("a");
    expect([c.size, c.bytes]).toEqual([0, 0]);
  });

  it("keeps the order right when the same entry is read many times in a row", () => {
    const cases: {
      desc: string;
      reads: string[];
      deleted?: string;
      want: (string | undefined)[];
    }[] = [
      { desc: "newest read again", reads: ["b", "b", "a", "a"], want: ["A", undefined, "C"] },
      { desc: "oldest read twice", reads: ["a", "a"], want: ["A", undefined, "C"] },
      { desc: "newest deleted, then re-added", reads: ["b"], deleted: "b", want: ["A", "B", "C"] },
    ];
    for (const { desc, reads, deleted, want } of cases) {
      const c = new ByteLru<string>(100);
      c.set("a", "A", 40);
      c.set("b", "B", 40);
      for (const k of reads) c.get(k);
      if (deleted) {
        c.delete(deleted);
        c.set(deleted, deleted.toUpperCase(), 20);
        c.get("a");
      }
      c.set("c", "C", 40);
      expect([c.get("a"), c.get("b"), c.get("c")], desc).toEqual(want);
    }
  });
});
