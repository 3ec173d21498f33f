// masqueradeCIDRs through the real server and protocol-level reporters: refused while a node
// runs in observe mode (the upstream agent beside it ignores the key), saved and applied when
// every node enforces, with the dry run naming what changes for which ranges.
import { describe, expect, it } from "vitest";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually, perTest, reporterToken, startServer } from "./helpers/server.js";

const t = perTest();

async function connect(name: string, mode: "enforce" | "observe" = "enforce") {
  const r = await SimReporter.connect({
    url: t.server!.url,
    token: reporterToken(name),
    node: name,
    mode,
  });
  t.sims.push(r);
  return r;
}

async function nodeStatus(name: string): Promise<string | undefined> {
  const r = await t.server!.api(`/api/nodes/${name}`);
  return r.status === 200 ? r.body.node.status : undefined;
}

const EXCEPTIONS = { nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.100.10.0/24"] };

describe("masqueradeCIDRs", () => {
  it("is refused while a node is in observe mode, naming it; the dry run says so first", async () => {
    t.server = await startServer();
    await connect("node-a");
    await connect("node-obs", "observe");
    await eventually(async () => (await nodeStatus("node-obs")) !== undefined, 3000, "hello");
    const cfg = await t.server.api("/api/config");
    const config = { ...cfg.body.config, ...EXCEPTIONS };

    const dry = await t.server.api("/api/config/validate", { body: { config } });
    expect(dry.body.ok).toBe(false);
    expect(dry.body.errors).toEqual([expect.objectContaining({ code: "observe-mode" })]);

    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: { config, resourceVersion: cfg.body.resourceVersion },
    });
    expect(put.status).toBe(422);
    expect(put.body.error).toContain("observe mode (node-obs)");
    expect((await t.server.api("/api/config")).body.resourceVersion).toBe(cfg.body.resourceVersion);
  });

  it("is saved and applied when every node enforces; the impact names the ranges", async () => {
    t.server = await startServer();
    const node = await connect("node-a");
    await eventually(async () => (await nodeStatus("node-a")) === "in-sync", 3000, "initial sync");
    const cfg = await t.server.api("/api/config");
    const base = { ...cfg.body.config, nonMasqueradeCIDRs: ["10.0.0.0/8"] };
    const put0 = await t.server.api("/api/config", {
      method: "PUT",
      body: { config: base, resourceVersion: cfg.body.resourceVersion },
    });
    expect(put0.status).toBe(200);

    const config = { ...base, ...EXCEPTIONS };
    const dry = await t.server.api("/api/config/validate", { body: { config } });
    expect(dry.body.ok).toBe(true);
    expect(dry.body.diff.exceptionsAdded).toEqual(["10.100.10.0/24"]);
    expect(dry.body.impact.destinations).toEqual([
      {
        cidr: "10.100.10.0/24",
        change: "now-masqueraded",
        nodes: 1,
        entry: "masqueradeCIDRs 10.100.10.0/24",
      },
    ]);

    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: { config, resourceVersion: put0.body.resourceVersion },
    });
    expect(put.status).toBe(200);
    await eventually(
      async () => node.families[0]!.chain?.some((l) => l.includes("-d 10.100.10.0/24")),
      3000,
      "exception applied",
    );
    await eventually(async () => (await nodeStatus("node-a")) === "in-sync", 3000, "in sync");
    const ev = await t.server.api("/api/nodes/node-a/evaluate", { body: { ip: "10.100.10.2" } });
    expect(ev.body.actual.masqueraded).toBe(true);
    expect(ev.body.actual.entry?.text).toBe("masqueradeCIDRs 10.100.10.0/24");
  });
});
