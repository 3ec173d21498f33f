import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLAGS } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { ConfigSources } from "./config-sources.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ipmasq-csrc-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const WHOLE = "nonMasqueradeCIDRs: [198.51.100.0/24]\n";

describe("ConfigSources.readFile", () => {
  it("does not adopt a file read while it is written in place; the next check takes it whole", async () => {
    const file = join(dir, "config");
    // An editor's save caught between truncating the file and writing it: empty, which upstream
    // reads as its defaults.
    await writeFile(file, "");
    const sources = new ConfigSources({
      configFile: file,
      log: silentLogger(),
      settle: () => writeFile(file, WHOLE), // the write lands while the read settles
    });
    expect(await sources.readFile(DEFAULT_FLAGS)).toEqual({ kind: "none" });
    const next = await sources.readFile(DEFAULT_FLAGS);
    expect(next.kind === "config" && next.desired.config.nonMasqueradeCIDRs).toEqual([
      "198.51.100.0/24",
    ]);
  });

  it("adopts a file that reads the same after settling, once", async () => {
    const file = join(dir, "config");
    await writeFile(file, WHOLE);
    let settles = 0;
    const sources = new ConfigSources({
      configFile: file,
      log: silentLogger(),
      settle: async () => {
        settles++;
      },
    });
    expect((await sources.readFile(DEFAULT_FLAGS)).kind).toBe("config");
    expect(await sources.readFile(DEFAULT_FLAGS)).toEqual({ kind: "none" });
    expect(settles).toBe(1); // an unchanged file is not waited on
  });
});
