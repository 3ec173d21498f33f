import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_CONFIG_SOURCE_BYTES } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FileSources, SETTLE_MS } from "./file-sources.js";
import { StaleSourceError } from "./sources.js";

let dir: string;
let sources: FileSources | undefined;
/** The sources' monotonic clock: real time plus what a test skips ahead. */
let skipped = 0;
const clock = () => performance.now() + skipped;
const skip = (ms: number) => {
  skipped += ms;
};
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imd-fsrc-"));
  skipped = 0;
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
});
