import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotDurableError, removeStaleTemps, replaceFile } from "./atomic-write.js";
import { sha256 } from "./hash.js";
import { Mutex } from "./mutex.js";
import { readFileIfExists } from "./read.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "node-util-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("replaceFile", () => {
  it("creates, then replaces, with the mode given and no temp file left", async () => {
    const path = join(dir, "state.json");
    await replaceFile(path, "one", { mode: 0o600 });
    await replaceFile(path, "two", { mode: 0o600 });
    expect(readFileSync(path, "utf8")).toBe("two");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("a failed rename leaves the old content and removes the temp file", async () => {
    const path = join(dir, "a.conf");
    writeFileSync(path, "old");
    const rename = () => Promise.reject(new Error("EBUSY"));
    await expect(replaceFile(path, "new", { io: { rename } })).rejects.toThrow("EBUSY");
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["a.conf"]);
  });

  it("a failed directory fsync after the rename is NotDurableError, with the new content", async () => {
    const path = join(dir, "index.json");
    const fsyncDir = () => Promise.reject(new Error("EIO"));
    const err = await replaceFile(path, "new", { io: { fsyncDir } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotDurableError);
    expect(readFileSync(path, "utf8")).toBe("new");
  });
});

describe("removeStaleTemps", () => {
  const tests: { desc: string; input: { names: string[]; suffix?: string }; want: string[] }[] = [
    {
      desc: "only temp names of replaceFile",
      input: { names: [".a.json.0123456789ab.tmp", "a.json", ".a.json.xyz.tmp"] },
      want: [".a.json.0123456789ab.tmp"],
    },
    {
      desc: "another suffix",
      input: {
        names: [".b.conf.0123456789ab.ipmasq-tmp", ".b.conf.0123456789ab.tmp"],
        suffix: ".ipmasq-tmp",
      },
      want: [".b.conf.0123456789ab.ipmasq-tmp"],
    },
  ];
  for (const { desc, input, want } of tests)
    it(desc, async () => {
      for (const n of input.names) writeFileSync(join(dir, n), "");
      expect((await removeStaleTemps(dir, input.suffix)).sort()).toEqual(want);
      expect(readdirSync(dir).sort()).toEqual(input.names.filter((n) => !want.includes(n)).sort());
    });
});

describe("readFileIfExists", () => {
  it("reads, or undefined when missing; other errors throw", async () => {
    writeFileSync(join(dir, "x"), "text");
    expect(await readFileIfExists(join(dir, "x"))).toBe("text");
    expect(await readFileIfExists(join(dir, "missing"))).toBeUndefined();
    await expect(readFileIfExists(dir)).rejects.toMatchObject({ code: "EISDIR" });
  });
});

describe("sha256", () => {
  const tests: { desc: string; input: [string, ("hex" | "base64url")?]; want: string }[] = [
    {
      desc: "empty, hex (FIPS 180-2)",
      input: [""],
      want: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    },
    {
      desc: "abc, base64url",
      input: ["abc", "base64url"],
      want: "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0",
    },
  ];
  for (const { desc, input, want } of tests) it(desc, () => expect(sha256(...input)).toBe(want));
});

describe("Mutex", () => {
  it("runs sections one at a time in call order; a failure does not stop the next", async () => {
    const m = new Mutex();
    const order: string[] = [];
    const section = (name: string, fail = false) =>
      m.run(async () => {
        order.push(`${name}:start`);
        await new Promise((r) => setImmediate(r));
        order.push(`${name}:end`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([section("a"), section("b", true), section("c")]);
    expect(order).toEqual(["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });
});
