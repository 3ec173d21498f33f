// The file store answers what it committed (issue 12, item 6), through the HTTP API: a save
// whose config.yaml copy fails still answers 200 with the committed revision; a full disk
// answers 507 "disk full" and changes nothing; the dashboard starts on a full disk read-only.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLAGS, defaultConfig, serializeConfig } from "@masq/shared";
import { afterEach, describe, expect, it } from "vitest";
import { FileStore } from "../src/server/store/file-store.js";
import { atomicWrite } from "../src/server/util/atomic-write.js";
import { perTest, startServer } from "./helpers/server.js";

const t = perTest();
const initialText = serializeConfig(defaultConfig(DEFAULT_FLAGS));

/** A disk that answers ENOSPC to every write while `full`. */
function disk() {
  const d = {
    full: false,
    writer: async (path: string, data: string, mode?: number) => {
      if (d.full)
        throw Object.assign(new Error(`ENOSPC: no space left, ${path}`), { code: "ENOSPC" });
      await atomicWrite(path, data, mode);
    },
  };
  return d;
}

async function put(yaml: string, resourceVersion: string) {
  return t.server!.api("/api/config", { method: "PUT", body: { yaml, resourceVersion } });
}

async function state() {
  const config = (await t.server!.api("/api/config")).body;
  const history = (await t.server!.api("/api/history")).body.revisions;
  return {
    resourceVersion: config.resourceVersion,
    history: history.map((r: { resourceVersion: string }) => r.resourceVersion),
  };
}

describe("file store faults through the API", () => {
  it("answers 200 with the committed revision when config.yaml cannot be written", async () => {
    t.server = await startServer();
    await rm(join(t.server.dataDir, "config.yaml"));
    await mkdir(join(t.server.dataDir, "config.yaml", "in-the-way"), { recursive: true });
    const saved = await put("nonMasqueradeCIDRs: [10.0.0.0/8]\n", "1");
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ resourceVersion: "2", revision: 2 });
    expect(await state()).toEqual({ resourceVersion: "2", history: ["2", "1"] });
    expect((await put("nonMasqueradeCIDRs: [10.0.0.0/16]\n", "2")).status).toBe(200);
    await rm(join(t.server.dataDir, "config.yaml"), { recursive: true });
    await t.server.stop();
    t.server = await startServer({ dataDir: t.server.dataDir });
    expect(await state()).toEqual({ resourceVersion: "3", history: ["3", "2", "1"] });
  });

  it("refuses saves on a full disk with 507 disk full, changing nothing, until space returns", async () => {
    const d = disk();
    t.server = await startServer({
      store: new FileStore({ dir: await tmp(), initialText, writer: d.writer }),
    });
    d.full = true;
    const refused = await put("nonMasqueradeCIDRs: [10.0.0.0/8]\n", "1");
    expect(refused.status).toBe(507);
    expect(refused.body.error).toMatch(/^disk full: .*\(ENOSPC\); the config was not saved/);
    expect(await state()).toEqual({ resourceVersion: "1", history: ["1"] });
    d.full = false;
    expect((await put("nonMasqueradeCIDRs: [10.0.0.0/8]\n", "1")).status).toBe(200);
  });

  it("starts on a full disk, serves the committed config and refuses saves", async () => {
    const dir = await tmp();
    const d = disk();
    t.server = await startServer({ store: new FileStore({ dir, initialText, writer: d.writer }) });
    await put("nonMasqueradeCIDRs: [10.0.0.0/8]\n", "1");
    await t.server.stop();
    d.full = true;
    t.server = await startServer({ store: new FileStore({ dir, initialText, writer: d.writer }) });
    expect((await t.server.api("/readyz", { token: null })).status).toBe(200);
    expect(await state()).toEqual({ resourceVersion: "2", history: ["2", "1"] });
    expect((await put("nonMasqueradeCIDRs: [10.0.0.0/16]\n", "2")).status).toBe(507);
  });
});

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "ipmasq-faults-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  // The server first: it writes into its data dir after answering (the roster, rollout records).
  await t.server?.dispose();
  t.server = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
