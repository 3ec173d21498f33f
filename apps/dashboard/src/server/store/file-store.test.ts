import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotDurableError } from "@masq/node-util";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXTRAS_DROPPED } from "../fleet/staged-compat.js";
import { atomicWrite } from "../util/atomic-write.js";
import { FileStore, StoreWriteError } from "./file-store.js";
import { StaleRevisionError } from "./types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "filestore-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const initialText = "nonMasqueradeCIDRs: [10.0.0.0/8]\n";

describe("FileStore", () => {
  it("writes the initial text as revision 1 by system, with config.yaml in the upstream format", async () => {
    const s = new FileStore({ dir, initialText });
    await s.start();
    expect(s.current()).toMatchObject({
      resourceVersion: "1",
      revision: 1,
      author: "system",
      text: initialText,
    });
    expect(await readFile(join(dir, "config.yaml"), "utf8")).toBe(initialText);
    expect(await readFile(join(dir, "history", "000001.yaml"), "utf8")).toBe(initialText);
  });

  it("saves new revisions, rejects stale ones and survives a restart", async () => {
    const s = new FileStore({ dir, initialText });
    const seen: string[] = [];
    s.onChange((r) => seen.push(r.resourceVersion));
    await s.start();
    const r2 = await s.save({
      text: "a: 1\n",
      author: "ann",
      message: "m",
      expectedResourceVersion: "1",
    });
    expect(r2).toMatchObject({ resourceVersion: "2", revision: 2, author: "ann", message: "m" });
    await expect(
      s.save({ text: "b\n", author: "bob", message: "", expectedResourceVersion: "1" }),
    ).rejects.toBeInstanceOf(StaleRevisionError);
    expect(seen).toEqual(["2"]);
    await s.close();
    const again = new FileStore({ dir, initialText: "ignored\n" });
    await again.start();
    expect(again.current()).toMatchObject({ resourceVersion: "2", text: "a: 1\n", author: "ann" });
    expect((await again.history()).map((r) => r.resourceVersion)).toEqual(["2", "1"]);
  });

  it("reads an index of the previous release (generation, a string revision)", async () => {
    const s = new FileStore({ dir, initialText });
    await s.start();
    await s.save({ text: "a: 1\n", author: "ann", message: "m", expectedResourceVersion: "1" });
    await s.close();
    const path = join(dir, "index.json");
    const index = JSON.parse(await readFile(path, "utf8")) as {
      entries: { resourceVersion: string; revision: number }[];
    };
    const old = index.entries.map(({ resourceVersion, revision, ...rest }) => ({
      ...rest,
      revision: resourceVersion,
      generation: revision,
    }));
    await writeFile(path, JSON.stringify({ ...index, entries: old }));
    const again = new FileStore({ dir, initialText: "ignored\n" });
    await again.start();
    expect(again.current()).toMatchObject({ resourceVersion: "2", revision: 2, author: "ann" });
    expect((await again.history()).map((r) => r.revision)).toEqual([2, 1]);
  });

  it("keeps only `retention` revisions on disk", async () => {
    const s = new FileStore({ dir, initialText, retention: 3 });
    await s.start();
    for (let i = 1; i <= 5; i++)
      await s.save({
        text: `n: ${i}\n`,
        author: "a",
        message: "",
        expectedResourceVersion: String(i),
      });
    expect((await s.history()).map((r) => r.resourceVersion)).toEqual(["6", "5", "4"]);
    await expect(stat(join(dir, "history", "000001.yaml"))).rejects.toThrow();
  });

  it("refuses to start over a damaged index instead of resetting to defaults", async () => {
    await writeFile(join(dir, "index.json"), "{not json");
    await expect(new FileStore({ dir, initialText }).start()).rejects.toThrow();
  });

  it("serializes concurrent saves so only one wins", async () => {
    const s = new FileStore({ dir, initialText });
    await s.start();
    const results = await Promise.allSettled(
      [1, 2, 3].map((i) =>
        s.save({ text: `${i}\n`, author: "a", message: "", expectedResourceVersion: "1" }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});

/** A disk that refuses writes whose path matches `when` with `code`; the rest hit the real fs. */
function faultyDisk(code: string, when: (path: string) => boolean = () => true) {
  const disk = {
    failing: true,
    writer: async (path: string, data: string, mode?: number) => {
      if (disk.failing && when(path))
        throw Object.assign(new Error(`${code}: refused ${path}`), { code });
      await atomicWrite(path, data, mode);
    },
  };
  return disk;
}

const save = (s: FileStore, text: string, expectedResourceVersion: string) =>
  s.save({ text, author: "ann", message: "", expectedResourceVersion });

describe("FileStore on a failing disk", () => {
  it("answers what it committed when config.yaml cannot be written after the commit", async () => {
    // The case: the history entry is written, config.yaml is not (here it became a
    // directory, which no rename can replace: a real failure, on the real file system).
    const s = new FileStore({ dir, initialText });
    const seen: string[] = [];
    s.onChange((r) => seen.push(r.resourceVersion));
    await s.start();
    await rm(join(dir, "config.yaml"));
    await mkdir(join(dir, "config.yaml", "in-the-way"), { recursive: true });
    const r2 = await save(s, "a: 2\n", "1");
    expect(r2).toMatchObject({ resourceVersion: "2", text: "a: 2\n" });
    expect(s.current().resourceVersion).toBe("2");
    expect(seen).toEqual(["2"]);
    expect((await s.history()).map((r) => r.resourceVersion)).toEqual(["2", "1"]);
    expect(await save(s, "a: 3\n", "2")).toMatchObject({ resourceVersion: "3" });
    await rm(join(dir, "config.yaml"), { recursive: true });
    const again = new FileStore({ dir, initialText });
    await again.start();
    expect(again.current()).toMatchObject({ resourceVersion: "3", text: "a: 3\n" });
    expect(await readFile(join(dir, "config.yaml"), "utf8")).toBe("a: 3\n");
  });

  it("refuses a save with 507 disk full when nothing can be written, and changes nothing", async () => {
    const disk = faultyDisk("ENOSPC");
    disk.failing = false;
    const s = new FileStore({ dir, initialText, writer: disk.writer });
    const seen: string[] = [];
    s.onChange((r) => seen.push(r.resourceVersion));
    await s.start();
    disk.failing = true;
    const err = await save(s, "a: 2\n", "1").catch((e) => e);
    expect(err).toBeInstanceOf(StoreWriteError);
    expect(err).toMatchObject({ status: 507, code: "ENOSPC" });
    expect(err.message).toMatch(
      /^disk full: cannot write to .* \(ENOSPC\); the config was not saved/,
    );
    expect(s.readOnly()).toBe("disk full (ENOSPC)");
    expect(s.current().resourceVersion).toBe("1");
    expect(seen).toEqual([]);
    expect((await s.history()).map((r) => r.resourceVersion)).toEqual(["1"]);
    // Space returns: the same save goes through.
    disk.failing = false;
    expect(await save(s, "a: 2\n", "1")).toMatchObject({ resourceVersion: "2" });
    expect(s.readOnly()).toBeUndefined();
  });

  it("keeps the previous revision when the index write fails after the revision file", async () => {
    const disk = faultyDisk("ENOSPC", (p) => p.endsWith("index.json"));
    disk.failing = false;
    const s = new FileStore({ dir, initialText, writer: disk.writer });
    await s.start();
    disk.failing = true;
    await expect(save(s, "a: 2\n", "1")).rejects.toMatchObject({ status: 507 });
    expect(s.current().resourceVersion).toBe("1");
    const again = new FileStore({ dir, initialText });
    await again.start();
    expect(again.current()).toMatchObject({ resourceVersion: "1", text: initialText });
  });

  it("treats a renamed index whose directory sync failed as committed", async () => {
    const s = new FileStore({
      dir,
      initialText,
      writer: async (path, data, mode) => {
        await atomicWrite(path, data, mode);
        if (path.endsWith("index.json")) throw new NotDurableError(path, new Error("EIO"));
      },
    });
    await s.start();
    expect(await save(s, "a: 2\n", "1")).toMatchObject({ resourceVersion: "2" });
    const again = new FileStore({ dir, initialText });
    await again.start();
    expect(again.current().resourceVersion).toBe("2");
  });

  it("starts read-only on a full disk and saves again once space returns", async () => {
    const first = new FileStore({ dir, initialText });
    await first.start();
    await save(first, "a: 2\n", "1");
    const disk = faultyDisk("ENOSPC");
    const s = new FileStore({ dir, initialText, writer: disk.writer });
    await s.start();
    expect(s.current()).toMatchObject({ resourceVersion: "2", text: "a: 2\n" });
    expect(s.readOnly()).toBe("disk full (ENOSPC)");
    await expect(save(s, "a: 3\n", "2")).rejects.toMatchObject({ status: 507 });
    disk.failing = false;
    expect(await save(s, "a: 3\n", "2")).toMatchObject({ resourceVersion: "3" });
  });

  it("starts an empty data dir on a full disk with the defaults in memory, written by the first save", async () => {
    const disk = faultyDisk("ENOSPC");
    const s = new FileStore({ dir, initialText, writer: disk.writer });
    await s.start();
    expect(s.current()).toMatchObject({
      resourceVersion: "1",
      author: "system",
      text: initialText,
    });
    await expect(save(s, "a: 2\n", "1")).rejects.toMatchObject({ status: 507 });
    disk.failing = false;
    await save(s, "a: 2\n", "1");
    const again = new FileStore({ dir, initialText: "ignored\n" });
    await again.start();
    expect((await again.history()).map((r) => [r.resourceVersion, r.text])).toEqual([
      ["2", "a: 2\n"],
      ["1", initialText],
    ]);
  });

  it("removes temp files left by crashed writes at start, and nothing else", async () => {
    const first = new FileStore({ dir, initialText });
    await first.start();
    const temps = [
      join(dir, ".index.json.0123456789ab.tmp"),
      join(dir, ".config.yaml.ba9876543210.tmp"),
      join(dir, "history", ".000002.yaml.00aa11bb22cc.tmp"),
    ];
    const keep = [join(dir, "notes.txt"), join(dir, ".hidden"), join(dir, "x.tmp")];
    for (const f of [...temps, ...keep]) await writeFile(f, "partial");
    await new FileStore({ dir, initialText }).start();
    for (const f of temps) await expect(stat(f)).rejects.toThrow(/ENOENT/);
    for (const f of keep) expect((await stat(f)).isFile()).toBe(true);
  });
});

describe("FileStore rollout state (staged-compat.ts)", () => {
  const state = {
    version: 2,
    current: { revision: 7, sizes: [1, 5], digests: [11, 22] },
    past: [],
  };

  it("keeps rollout.json free of the fields the previous release refuses, and reads them back", async () => {
    const s = new FileStore({ dir, initialText });
    await s.start();
    await s.saveRollout(state);
    const onDisk = JSON.parse(await readFile(join(dir, "rollout.json"), "utf8"));
    expect(onDisk.current.digests).toBeUndefined();
    expect(await s.loadRollout()).toEqual(state);
  });

  it("rollout.json rewritten by the previous release: its digests are dropped (counted by number), and the log says why", async () => {
    const logged: { msg: string; reason?: string }[] = [];
    const log = pino({}, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const s = new FileStore({ dir, initialText, log });
    await s.start();
    await s.saveRollout(state);
    expect(await s.loadRollout()).toEqual(state);
    expect(logged.filter((l) => l.msg === EXTRAS_DROPPED)).toEqual([]);
    // A node joined wave 1 meanwhile: the digests counted 5 nodes, not these 6.
    const older = { version: 2, current: { revision: 7, sizes: [1, 6] }, past: [] };
    await writeFile(join(dir, "rollout.json"), JSON.stringify(older));
    expect(await s.loadRollout()).toEqual(older);
    expect(logged.filter((l) => l.msg === EXTRAS_DROPPED).map((l) => l.reason)).toEqual([
      "rollout-extras.json belongs to another rollout.json (rewritten since)",
    ]);
    await s.saveRollout(null);
    expect(await s.loadRollout()).toBeNull();
    expect(await readFile(join(dir, "rollout-extras.json"), "utf8")).toBe("");
  });
});
