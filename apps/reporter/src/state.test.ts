import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStateStore, type PersistedState } from "./state.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imr-state-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const state: PersistedState = {
  v: 1,
  config: defaultConfig(),
  revision: 4,
  resourceVersion: "r4",
  source: "dashboard",
  appliedAt: 1,
  fileHash: null,
};

describe("state store", () => {
  it("has nothing before the first save", async () => {
    expect(await createStateStore(join(dir, "sub")).load()).toEqual({ ok: true, state: undefined });
  });
  it("round-trips, creating the directory, with a private file and no temp files left", async () => {
    const s = createStateStore(join(dir, "sub"));
    await s.save(state);
    expect(await s.load()).toEqual({ ok: true, state });
    expect(await readdir(join(dir, "sub"))).toEqual(["state.json"]);
    expect((await stat(s.path)).mode & 0o777).toBe(0o600);
  });
  it("reports a damaged or foreign file instead of using it", async () => {
    const s = createStateStore(dir);
    await writeFile(s.path, "{not json");
    expect((await s.load()).ok).toBe(false);
    await writeFile(s.path, JSON.stringify({ ...state, extra: 1 }));
    expect((await s.load()).ok).toBe(false);
  });
  it("reads a file of the previous release (generation and a string revision)", async () => {
    const s = createStateStore(dir);
    const { revision, resourceVersion, ...rest } = state;
    await writeFile(
      s.path,
      JSON.stringify({ ...rest, generation: revision, revision: resourceVersion }),
    );
    expect(await s.load()).toEqual({ ok: true, state });
  });
  it("never writes a state that does not match the schema", async () => {
    const s = createStateStore(dir);
    await expect(s.save({ ...state, revision: -1 })).rejects.toThrow();
    await expect(readFile(s.path)).rejects.toThrow();
  });
});
