import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileStore } from "./file-store.js";
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
      revision: "1",
      generation: 1,
      author: "system",
      text: initialText,
    });
    expect(await readFile(join(dir, "config.yaml"), "utf8")).toBe(initialText);
    expect(await readFile(join(dir, "history", "000001.yaml"), "utf8")).toBe(initialText);
  });

  it("saves new revisions, rejects stale ones and survives a restart", async () => {
    const s = new FileStore({ dir, initialText });
    const seen: string[] = [];
    s.onChange((r) => seen.push(r.revision));
    await s.start();
    const r2 = await s.save({ text: "a: 1\n", author: "ann", message: "m", expectedRevision: "1" });
    expect(r2).toMatchObject({ revision: "2", generation: 2, author: "ann", message: "m" });
    await expect(
      s.save({ text: "b\n", author: "bob", message: "", expectedRevision: "1" }),
    ).rejects.toBeInstanceOf(StaleRevisionError);
    expect(seen).toEqual(["2"]);
    await s.close();
    const again = new FileStore({ dir, initialText: "ignored\n" });
    await again.start();
    expect(again.current()).toMatchObject({ revision: "2", text: "a: 1\n", author: "ann" });
    expect((await again.history()).map((r) => r.revision)).toEqual(["2", "1"]);
  });

  it("keeps only `retention` revisions on disk", async () => {
    const s = new FileStore({ dir, initialText, retention: 3 });
    await s.start();
    for (let i = 1; i <= 5; i++)
      await s.save({ text: `n: ${i}\n`, author: "a", message: "", expectedRevision: String(i) });
    expect((await s.history()).map((r) => r.revision)).toEqual(["6", "5", "4"]);
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
        s.save({ text: `${i}\n`, author: "a", message: "", expectedRevision: "1" }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});
