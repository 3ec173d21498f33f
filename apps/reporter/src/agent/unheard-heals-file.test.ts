import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_UNHEARD_HEALS } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { healsFile, MAX_UNHEARD_HEALS_BYTES, UNHEARD_HEALS_FILE } from "./unheard-heals-file.js";

const heal = (i: number) => ({ at: 1_000 + i, revision: 3, what: `missing RETURN ${i}` });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imd-heals-file-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the unheard heals' file", () => {
  it("keeps what was saved last, and is removed once nothing is kept", async () => {
    const f = healsFile(join(dir, "state"));
    expect(await f.load()).toEqual({ ok: true, kept: undefined });
    // Not awaited one by one: the file ends as the last call said.
    void f.save({ heals: [heal(0)], dropped: 0 });
    await f.save({ heals: [heal(0), heal(1)], dropped: 2 });
    expect(await f.load()).toEqual({ ok: true, kept: { heals: [heal(0), heal(1)], dropped: 2 } });
    await f.save({ heals: [], dropped: 0 });
    expect(await readdir(join(dir, "state"))).toEqual([]);
    expect(await f.load()).toEqual({ ok: true, kept: undefined });
  });

  const valid = { v: 1, heals: [heal(0)], dropped: 0 };
  const refused: { desc: string; input: string; want: RegExp }[] = [
    { desc: "not JSON", input: "{", want: /not JSON/ },
    { desc: "another version", input: JSON.stringify({ ...valid, v: 2 }), want: /^.*: v: / },
    { desc: "no heals", input: JSON.stringify({ ...valid, heals: [] }), want: /heals: / },
    {
      desc: "more heals than a reporter keeps",
      input: JSON.stringify({
        ...valid,
        heals: Array.from({ length: MAX_UNHEARD_HEALS + 1 }, (_, i) => heal(i)),
      }),
      want: /heals: /,
    },
    {
      desc: "a heal of two lines",
      input: JSON.stringify({ ...valid, heals: [{ ...heal(0), what: "a\nb" }] }),
      want: /heals\.0\.what: one line/,
    },
    { desc: "a field not known", input: JSON.stringify({ ...valid, x: 1 }), want: /\(top\)/ },
    {
      desc: "a negative drop count",
      input: JSON.stringify({ ...valid, dropped: -1 }),
      want: /dropped/,
    },
    {
      desc: "larger than the bound",
      input: " ".repeat(MAX_UNHEARD_HEALS_BYTES + 1),
      want: /over the 65536 allowed/,
    },
  ];
  it.each(refused)(
    "refuses $desc, moves it aside and keeps nothing of it",
    async ({ input, want }) => {
      await writeFile(join(dir, UNHEARD_HEALS_FILE), input);
      const r = await healsFile(dir).load();
      expect(r.ok).toBe(false);
      const reason = r.ok ? "" : r.reason;
      expect(reason).toMatch(want);
      expect(reason).toMatch(/moved aside to .*\.bad-\d+\); the heals it held are not told$/);
      const names = await readdir(dir);
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(/^unheard-heals\.json\.bad-\d+$/);
      // Kept for a person to look at, byte for byte.
      expect(await readFile(join(dir, names[0]!), "utf8")).toBe(input);
    },
  );

  it("refuses a FIFO unopened (it would hold the start) and a directory", async () => {
    execFileSync("mkfifo", [join(dir, UNHEARD_HEALS_FILE)]);
    const fifo = await healsFile(dir).load();
    expect(fifo).toMatchObject({ ok: false, reason: expect.stringMatching(/not a regular file/) });
    await rm(dir, { recursive: true });
    await mkdir(join(dir, UNHEARD_HEALS_FILE), { recursive: true });
    const d = await healsFile(dir).load();
    expect(d).toMatchObject({ ok: false, reason: expect.stringMatching(/not a regular file/) });
  });

  it("writes atomically with owner-only permissions", async () => {
    const f = healsFile(dir);
    await f.save({ heals: [heal(0)], dropped: 0 });
    expect((await stat(f.path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([UNHEARD_HEALS_FILE]);
  });
});
