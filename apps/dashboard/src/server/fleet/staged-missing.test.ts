import { describe, expect, it } from "vitest";
import { MissingNodes } from "./staged-missing.js";

describe("MissingNodes.absentFresh", () => {
  it("asks once, answers false meanwhile, then true only when the API server says absent", async () => {
    const m = new MissingNodes();
    m.add("a", 0);
    m.add("a", 5); // kept from the first
    expect([...m.entries()]).toEqual([["a", 0]]);
    const asked: string[] = [];
    const read = async (name: string) => {
      asked.push(name);
      return name !== "a";
    };
    expect(m.absentFresh("a", read)).toBe(false);
    expect(m.absentFresh("a", read)).toBe(false); // in flight: not asked again
    await new Promise((r) => setTimeout(r, 0));
    expect(m.absentFresh("a", read)).toBe(true);
    expect(asked).toEqual(["a"]);
  });

  it("a read that found the object or failed is asked again later; no reader: absent", async () => {
    const m = new MissingNodes();
    let n = 0;
    const exists = async () => {
      n++;
      return true;
    };
    m.absentFresh("b", exists);
    await new Promise((r) => setTimeout(r, 0));
    expect(m.absentFresh("b", exists)).toBe(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(n).toBe(2);
    expect(m.absentFresh("c", undefined)).toBe(true);
  });
});
