import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_CONFIG_SOURCE_BYTES } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FileSources, SETTLE_MS, UNSETTLED_PROBLEM_MS } from "./file-sources.js";
import { StaleSourceError } from "./sources.js";

let dir: string;
let sources: FileSources | undefined;
/** The sources' monotonic clock: real time (or the time it was frozen at) plus what a test skips ahead. */
let skipped = 0;
let frozenAt: number | undefined;
const clock = () => (frozenAt ?? performance.now()) + skipped;
/** From now on only skip() moves the clock: a margin of 1 ms is not eaten by a slow scan. */
const freeze = () => {
  frozenAt = performance.now();
};
const skip = (ms: number) => {
  skipped += ms;
};
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imd-fsrc-"));
  skipped = 0;
  frozenAt = undefined;
});
afterEach(async () => {
  await sources?.close();
  sources = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function started(files: Record<string, string | null>, prefix = "ip-masq-") {
  for (const [name, text] of Object.entries(files))
    await (text === null ? mkdir(join(dir, name)) : writeFile(join(dir, name), text));
  sources = new FileSources({ dir, prefix, pollMs: 3_600_000, now: clock });
  await sources.start();
  return sources;
}

describe("FileSources", () => {
  const cases: {
    desc: string;
    input: { files: Record<string, string | null>; prefix?: string };
    want: string[];
  }[] = [
    {
      desc: "files of the prefix, sorted; not the store's own files, directories or temp files",
      input: {
        files: {
          "ip-masq-b": "{}",
          "ip-masq-a.yaml": "{}",
          "config.yaml": "{}",
          "index.json": "{}",
          ".ip-masq-a.yaml.0123456789ab.tmp": "{}",
          "ip-masq-dir": null,
        },
      },
      want: ["ip-masq-a.yaml", "ip-masq-b"],
    },
    {
      desc: "no prefix: no sources",
      input: { files: { "ip-masq-a": "{}" }, prefix: "" },
      want: [],
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const s = await started(input.files, input.prefix);
    expect(s.list().map((x) => x.source.name)).toEqual(want);
  });

  it("a file over the size limit is not read; its size is kept for the merge to refuse", async () => {
    const s = await started({ "ip-masq-big": "#".repeat(MAX_CONFIG_SOURCE_BYTES + 1) });
    expect(s.list()[0]).toMatchObject({ text: "", bytes: MAX_CONFIG_SOURCE_BYTES + 1 });
  });

  it("saves with the revision it was read at; a stale one changes nothing", async () => {
    const s = await started({ "ip-masq-a": "{}" });
    const cur = s.list()[0]!;
    const req = { source: cur.source, text: "cidrLimit: 10\n", author: "ana", message: "" };
    await expect(s.save({ ...req, expectedResourceVersion: "stale" })).rejects.toBeInstanceOf(
      StaleSourceError,
    );
    const saved = await s.save({ ...req, expectedResourceVersion: cur.resourceVersion });
    expect(saved).toMatchObject({ text: "cidrLimit: 10\n", author: "ana" });
    expect(s.list()[0]?.resourceVersion).toBe(saved.resourceVersion);
    await expect(
      s.save({
        ...req,
        source: { kind: "file", name: "other", key: "other" },
        expectedResourceVersion: "x",
      }),
    ).rejects.toThrow(/not a config source/);
  });

  it("a save right after a hand edit (not settled yet) is stale: the edit is never overwritten", async () => {
    const s = await started({ "ip-masq-a": "{}" });
    const cur = s.list()[0]!;
    const edit = "masqLinkLocal: true\n";
    await writeFile(join(dir, "ip-masq-a"), edit); // whole, but not held still for SETTLE_MS
    const req = { source: cur.source, text: "cidrLimit: 10\n", author: "ana", message: "" };
    await expect(
      s.save({ ...req, expectedResourceVersion: cur.resourceVersion }),
    ).rejects.toBeInstanceOf(StaleSourceError);
    expect(await readFile(join(dir, "ip-masq-a"), "utf8")).toBe(edit);
  });

  it("closed while its start waits for a file to settle: nothing is looked at after", async () => {
    await writeFile(join(dir, "ip-masq-a"), "{}");
    const s = new FileSources({ dir, prefix: "ip-masq-", pollMs: 20, now: clock });
    const starting = s.start();
    await s.close();
    await starting;
    let calls = 0;
    s.onChange(() => calls++);
    await writeFile(join(dir, "ip-masq-b"), "{}");
    await new Promise((r) => setTimeout(r, 5 * SETTLE_MS));
    expect(calls).toBe(0);
  });

  it("tells listeners when a file appears, changes or goes, each once settled", async () => {
    const s = await started({});
    let calls = 0;
    s.onChange(() => calls++);
    await writeFile(join(dir, "ip-masq-a"), "{}");
    await s.scan();
    expect(calls).toBe(0); // just written: not taken until it holds still
    skip(SETTLE_MS);
    await s.scan();
    expect(calls).toBe(1);
    await writeFile(join(dir, "ip-masq-a"), "masqLinkLocal: true\n");
    await s.scan();
    skip(SETTLE_MS);
    await s.scan();
    await s.scan(); // nothing new
    expect(calls).toBe(2);
    await rm(join(dir, "ip-masq-a"));
    await s.scan(); // a removal is whole at once
    expect(calls).toBe(3);
  });

  it("never takes a file written in place half-way: the last whole version stays meanwhile", async () => {
    const s = await started({ "ip-masq-a": "nonMasqueradeCIDRs: [10.0.0.0/8]\n" });
    const texts: string[] = [];
    s.onChange(() => texts.push(s.list()[0]?.text ?? "(none)"));
    const whole = "nonMasqueradeCIDRs: [198.51.100.0/24]\n";
    freeze();
    // An editor's save: truncated, then written a moment later.
    await writeFile(join(dir, "ip-masq-a"), "");
    await s.scan();
    expect(s.list()[0]?.text).toBe("nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    skip(SETTLE_MS / 2);
    await writeFile(join(dir, "ip-masq-a"), whole);
    await s.scan();
    skip(SETTLE_MS - 1); // the change restarted the wait
    await s.scan();
    expect(texts).toEqual([]);
    skip(1);
    await s.scan();
    expect(texts).toEqual([whole]);
  });

  it("a changed file is taken without a poll once it settles", async () => {
    const s = await started({});
    await writeFile(join(dir, "ip-masq-a"), "{}");
    await s.scan();
    await vi.waitFor(() => expect(s.list().map((x) => x.source.name)).toEqual(["ip-masq-a"]), {
      timeout: 5000,
    });
  });

  it("a file that never holds still gets a problem (what, since when) after a bound, cleared once it settles", async () => {
    const s = await started({ "ip-masq-a": "nonMasqueradeCIDRs: [10.0.0.0/8]\n" });
    freeze();
    const before = new Date().toISOString();
    let i = 0;
    const rewrite = async () => {
      i++; // a writer looping: every write changes the size, so it never holds still
      await writeFile(
        join(dir, "ip-masq-a"),
        `# ${"x".repeat(i)}\nnonMasqueradeCIDRs: [10.${i}.0.0/16]\n`,
      );
      await s.scan();
      skip(SETTLE_MS / 2);
    };
    while (skipped < UNSETTLED_PROBLEM_MS / 2) await rewrite();
    expect(s.status().problems).toEqual([]); // a few edits in a row are no problem
    while (skipped <= UNSETTLED_PROBLEM_MS) await rewrite();
    const [problem] = s.status().problems;
    expect(problem).toMatch(/ip-masq-a/);
    expect(problem).toMatch(/changing/);
    const since = /since (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(problem ?? "")?.[1];
    expect(since && since >= before && since <= new Date().toISOString()).toBe(true);
    expect(s.status().sourceProblems?.get("file/ip-masq-a")).toBe(problem);
    expect(s.list()[0]?.text).toBe("nonMasqueradeCIDRs: [10.0.0.0/8]\n"); // the last settled one
    skip(SETTLE_MS); // the writer stopped
    await s.scan();
    expect(s.list()[0]?.text).toMatch(new RegExp(`10\\.${i}\\.0\\.0/16`));
    expect(s.status()).toEqual({ problems: [], sourceProblems: new Map() });
  });

  it("a new file that never holds still is named too (it is not a source yet)", async () => {
    const s = await started({});
    freeze();
    for (let i = 0; skipped <= UNSETTLED_PROBLEM_MS; i++) {
      await writeFile(join(dir, "ip-masq-new"), "#".repeat(i));
      await s.scan();
      skip(SETTLE_MS / 2);
    }
    expect(s.list()).toEqual([]);
    expect(s.status().problems).toEqual([expect.stringMatching(/ip-masq-new.*not taken yet/)]);
  });

  it("a same-size rewrite with its mtime restored (touch -r) is noticed: same size, mtime and inode", async () => {
    const s = await started({ "ip-masq-a": "nonMasqueradeCIDRs: [10.1.0.0/16]\n" });
    const path = join(dir, "ip-masq-a");
    const ref = join(dir, "mtime-ref");
    execFileSync("touch", ["-r", path, ref]); // what a filesystem of coarse mtimes shows too
    const st = await stat(path);
    await writeFile(path, "nonMasqueradeCIDRs: [10.9.0.0/16]\n");
    execFileSync("touch", ["-r", ref, path]);
    const now = await stat(path);
    expect([now.size, now.mtimeMs, now.ino]).toEqual([st.size, st.mtimeMs, st.ino]);
    await s.scan();
    skip(SETTLE_MS);
    await s.scan();
    expect(s.list()[0]?.text).toBe("nonMasqueradeCIDRs: [10.9.0.0/16]\n");
  });

  it("with more files than a scan verifies, the others' turn comes in the next scans", async () => {
    const files = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`ip-masq-${String(i).padStart(2, "0")}`, "{}\n"]),
    );
    const s = await started(files);
    const path = join(dir, "ip-masq-18");
    const ref = join(dir, "mtime-ref");
    execFileSync("touch", ["-r", path, ref]);
    await writeFile(path, "[]\n"); // same size, then the same mtime
    execFileSync("touch", ["-r", ref, path]);
    await s.scan(); // 16 files verified: not this one (the first scan after start)
    expect(s.list()[18]?.text).toBe("{}\n");
    await s.scan(); // its turn: seen changed, settling
    skip(SETTLE_MS);
    await s.scan();
    expect(s.list()[18]?.text).toBe("[]\n");
  });

  it("start takes files older than the settle window at once", async () => {
    const path = join(dir, "ip-masq-a");
    await writeFile(path, "{}");
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const t0 = performance.now();
    const s = await started({});
    expect(performance.now() - t0).toBeLessThan(SETTLE_MS);
    expect(s.list().map((x) => x.text)).toEqual(["{}"]);
  });

  it("start waits for a file written just now, and never takes its half (written in place)", async () => {
    const path = join(dir, "ip-masq-a");
    await writeFile(path, ""); // truncated: the writer is mid-way
    sources = new FileSources({ dir, prefix: "ip-masq-", pollMs: 3_600_000 });
    const t0 = performance.now();
    const starting = sources.start();
    await new Promise((r) => setTimeout(r, SETTLE_MS / 2));
    await writeFile(path, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    await starting;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(SETTLE_MS);
    expect(sources.list().map((x) => x.text)).toEqual(["nonMasqueradeCIDRs: [10.0.0.0/8]\n"]);
  });
});
