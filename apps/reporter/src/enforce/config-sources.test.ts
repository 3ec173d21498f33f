import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLAGS } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../log.js";
import { ConfigSources, UNSETTLED_WARN_MS } from "./config-sources.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imr-csrc-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("a mounted config file that never reads the same twice", () => {
  it("is said with since when (a warning) once it has kept changing for a bound; said again after it settled and started again", async () => {
    const file = join(dir, "config");
    const lines: { level: string; msg: string; since?: string }[] = [];
    const log = createLogger({ destination: { write: (s: string) => lines.push(JSON.parse(s)) } });
    let now = Date.parse("2026-01-01T00:00:00Z");
    let n = 0;
    let looping = true;
    // A writer looping: between the two reads of every check the file changes again.
    const settle = async () => {
      if (looping) await writeFile(file, `nonMasqueradeCIDRs: [10.${++n}.0.0/16]\n`);
    };
    const sources = new ConfigSources({ configFile: file, log, settle, now: () => now });
    const warnings = () => lines.filter((l) => l.level === "warn");
    const check = async () => {
      await writeFile(file, `nonMasqueradeCIDRs: [10.${++n}.0.0/16]\n`);
      return sources.readFile(DEFAULT_FLAGS);
    };
    for (; now < Date.parse("2026-01-01T00:00:00Z") + UNSETTLED_WARN_MS; now += 10_000)
      expect(await check()).toEqual({ kind: "none" });
    expect(warnings()).toEqual([]);
    expect(await check()).toEqual({ kind: "none" });
    expect(warnings()).toEqual([
      expect.objectContaining({
        since: "2026-01-01T00:00:00.000Z",
        msg: expect.stringMatching(/kept changing/),
      }),
    ]);
    now += 10_000;
    await check();
    expect(warnings()).toHaveLength(1); // once, not at every check
    looping = false;
    expect((await check()).kind).toBe("config"); // settled: adopted
    looping = true;
    for (let i = 0; i * 10_000 <= UNSETTLED_WARN_MS; i++, now += 10_000) await check();
    expect(warnings()).toHaveLength(2);
  });
});
