// Config, validate, history and rollback through the HTTP API (file store).
import { describe, expect, it } from "vitest";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually, perTest, reporterToken, startServer } from "./helpers/server.js";

const t = perTest();

/** A protocol reporter for `node` on the current server, closed after the test. */
async function connect(node: string): Promise<SimReporter> {
  const sim = await SimReporter.connect({ url: t.server!.url, token: reporterToken(node), node });
  t.sims.push(sim);
  return sim;
}

describe("config API", () => {
  it("starts with the upstream defaults as revision 1 by system", async () => {
    t.server = await startServer();
    const r = await t.server.api("/api/config");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      resourceVersion: "1",
      revision: 1,
      valid: true,
      errors: [],
      author: "system",
      config: {
        nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
        masqLinkLocal: false,
        cidrLimit: 64,
        resyncInterval: "60s",
      },
      flags: { masqChain: "IP-MASQ-AGENT", enableIPv6: false },
    });
    expect(r.body.yaml).toContain("nonMasqueradeCIDRs");
  });

  it("saves YAML as written (upstream format) and config objects serialized, with author and message", async () => {
    t.server = await startServer();
    const yaml = "# keep the docs range\nnonMasqueradeCIDRs:\n  - 10.0.0.0/8\n  - 10.0.0.0/8\n";
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml, resourceVersion: "1", message: "docs" },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ resourceVersion: "2", revision: 2 });
    expect(put.body.warnings).toContainEqual(
      expect.objectContaining({ code: "duplicate", value: "10.0.0.0/8" }),
    );
    const got = (await t.server.api("/api/config")).body;
    expect(got.yaml).toBe(yaml);
    expect(got).toMatchObject({
      author: "admin",
      message: "docs",
      config: { nonMasqueradeCIDRs: ["10.0.0.0/8", "10.0.0.0/8"] },
    });

    const obj = { ...got.config, nonMasqueradeCIDRs: ["192.168.0.0/16"], masqLinkLocal: true };
    const put2 = await t.server.api("/api/config", {
      method: "PUT",
      body: { config: obj, resourceVersion: "2" },
    });
    expect(put2.status).toBe(200);
    const got2 = (await t.server.api("/api/config")).body;
    expect(got2.config).toEqual(obj);
    expect(got2.yaml).toMatch(/masqLinkLocal: true/);
  });

  it("rejects invalid configs with 400 naming each bad value, saving nothing", async () => {
    t.server = await startServer();
    const bad = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.1/8, fd00::/8, nope]\n", resourceVersion: "1" },
    });
    expect(bad.status).toBe(400);
    const values = bad.body.errors.map((e: { value: string }) => e.value);
    expect(values).toEqual(expect.arrayContaining(["10.0.0.1/8", "fd00::/8", "nope"]));
    expect(
      bad.body.errors.find((e: { value: string }) => e.value === "10.0.0.1/8").suggestion,
    ).toBe("10.0.0.0/8");
    const both = await t.server.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "{}",
        config: {
          nonMasqueradeCIDRs: [],
          masqLinkLocal: false,
          masqLinkLocalIPv6: false,
          cidrLimit: 64,
          resyncInterval: "60s",
        },
        resourceVersion: "1",
      },
    });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatch(/exactly one/);
    const overflow = await t.server.api("/api/config", {
      method: "PUT",
      body: {
        config: {
          nonMasqueradeCIDRs: [],
          masqLinkLocal: false,
          masqLinkLocalIPv6: false,
          cidrLimit: 64,
          resyncInterval: "2562048h",
        },
        resourceVersion: "1",
      },
    });
    expect(overflow.status).toBe(400);
    expect(overflow.body.errors[0]).toMatchObject({
      code: "duration",
      upstream: 'time: invalid duration "2562048h"',
    });
    expect((await t.server.api("/api/config")).body.resourceVersion).toBe("1");
  });

  it("refuses at save a config nodes cannot be sent, naming the limit", async () => {
    t.server = await startServer();
    // 4,097 CIDRs fit a request as a flow list (about 51 KiB).
    const cidrs = Array.from({ length: 4097 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const yaml = `cidrLimit: 5000\nnonMasqueradeCIDRs: [${cidrs.join(",")}]\n`;
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml, resourceVersion: "1" },
    });
    expect(put.status).toBe(400);
    expect(put.body.error).toBe(
      "the config is invalid: 4097 CIDRs are more than the 4096 a config can carry to nodes; nodes would refuse it",
    );
    expect((await t.server.api("/api/config")).body.resourceVersion).toBe("1");
    const big = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: `${yaml}# ${"x".repeat(64 * 1024)}\n`, resourceVersion: "1" },
    });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe("request body larger than 65536 bytes");
  });

  it("applies what upstream applies: an empty list item keeps the default there, with a warning", async () => {
    t.server = await startServer();
    const sim = await connect("node-a");
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs:\n  -\n  - 100.64.0.0/10\n", resourceVersion: "1" },
    });
    expect(put.status).toBe(200);
    expect(put.body.warnings.map((w: { code: string }) => w.code)).toContain("null-item");
    const desired = await sim.waitFor((m) => m.type === "desired" && m.revision === 2, 10_000);
    expect(desired.type === "desired" && desired.config.nonMasqueradeCIDRs).toEqual([
      "10.0.0.0/8",
      "100.64.0.0/10",
    ]);
  });

  it("accepts resyncInterval 0s and 600h as upstream does, saying what nodes will do", async () => {
    t.server = await startServer();
    for (const [resourceVersion, interval, said] of [
      ["1", "0s", /re-applies every 1s/],
      ["2", "600h", /only every 600h0m0s/],
    ] as const) {
      const put = await t.server.api("/api/config", {
        method: "PUT",
        body: { yaml: `resyncInterval: ${interval}\n`, resourceVersion },
      });
      expect(put.status).toBe(200);
      expect(
        put.body.warnings.find((w: { code: string }) => w.code === "resync-interval").message,
      ).toMatch(said);
    }
  });

  it("answers a stale revision with 409 and the current config, never losing the other edit", async () => {
    t.server = await startServer();
    const first = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: "1" },
    });
    expect(first.status).toBe(200);
    const second = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [172.16.0.0/12]\n", resourceVersion: "1" },
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      error: "stale resourceVersion",
      current: {
        resourceVersion: "2",
        author: "admin",
        config: { nonMasqueradeCIDRs: ["10.0.0.0/8"] },
      },
    });
    expect(second.body.current.yaml).toBe("nonMasqueradeCIDRs: [10.0.0.0/8]\n");
  });

  it("serializes concurrent saves: exactly one of many racing edits wins", async () => {
    t.server = await startServer();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.server!.api("/api/config", {
          method: "PUT",
          body: { yaml: `nonMasqueradeCIDRs: [10.${i}.0.0/16]\n`, resourceVersion: "1" },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    expect((await t.server.api("/api/history")).body.revisions).toHaveLength(2);
  });

  it("validates without saving: errors, warnings, diff and impact on nodes and destinations", async () => {
    t.server = await startServer();
    for (const node of ["node-a", "node-b"]) await connect(node);
    await eventually(
      async () => (await t.server!.api("/api/nodes")).body.summary.byStatus["in-sync"] === 2,
      3000,
    );
    const v = await t.server.api("/api/config/validate", {
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8, 172.16.0.0/12, 100.64.0.0/10, 0.0.0.0/0]\n" },
    });
    expect(v.status).toBe(200);
    expect(v.body.ok).toBe(true);
    expect(v.body.warnings.map((w: { code: string }) => w.code)).toContain("all-traffic");
    expect(v.body.diff).toEqual({
      added: ["100.64.0.0/10", "0.0.0.0/0"],
      removed: ["192.168.0.0/16"],
      changed: [],
      scalars: [],
    });
    expect(v.body.impact.nodes).toBe(2);
    expect(v.body.impact.destinations).toEqual(
      expect.arrayContaining([
        { cidr: "100.64.0.0/10", change: "no-longer-masqueraded", nodes: 2 },
      ]),
    );
    // 192.168.0.0/16 is removed but still covered by 0.0.0.0/0: not "now masqueraded".
    expect(
      v.body.impact.destinations.find((d: { cidr: string }) => d.cidr === "192.168.0.0/16"),
    ).toBeUndefined();

    const ll = await t.server.api("/api/config/validate", {
      body: {
        config: {
          nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
          masqLinkLocal: true,
          masqLinkLocalIPv6: false,
          cidrLimit: 64,
          resyncInterval: "60s",
        },
      },
    });
    expect(ll.body.diff.changed).toEqual(["masqLinkLocal"]);
    expect(ll.body.impact.destinations).toEqual([
      { cidr: "169.254.0.0/16", change: "now-masqueraded", nodes: 2 },
    ]);

    // A node whose rules are not the current config's (a hand edit already keeps 100.64/10
    // from MASQUERADE, say) does not get the configs' difference claimed for it (newuser5).
    const drifted = await connect("node-c");
    await eventually(
      async () => (await t.server!.api("/api/nodes")).body.summary.byStatus["in-sync"] === 3,
      3000,
    );
    drifted.handEdit((chain) => chain.filter((l) => !l.includes("192.168.0.0/16")));
    await eventually(
      async () => (await t.server!.api("/api/nodes")).body.summary.byStatus.drifted === 1,
      3000,
    );
    const d = await t.server.api("/api/config/validate", {
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10]\n",
      },
    });
    expect(d.body.impact.destinations).toEqual([
      { cidr: "100.64.0.0/10", change: "no-longer-masqueraded", nodes: 2 },
    ]);
    expect(d.body.impact.nodes).toBe(3);
    expect(d.body.impact.notAsConfigured).toEqual({
      nodes: 1,
      reason: expect.stringContaining("(1 drifted)"),
    });
    await drifted.close();

    const same = await t.server.api("/api/config/validate", {
      body: { yaml: (await t.server.api("/api/config")).body.yaml },
    });
    expect(same.body.impact).toEqual({ nodes: 0, destinations: [] });

    const bad = await t.server.api("/api/config/validate", {
      body: { yaml: "cidrLimit: 1\nnonMasqueradeCIDRs: [10.0.0.0/8, 11.0.0.0/8]\n" },
    });
    expect(bad.status).toBe(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.errors[0].code).toBe("cidr-limit");
    expect((await t.server.api("/api/config")).body.resourceVersion).toBe("1");
  });

  it("lists history newest first with diffs and rolls back (a new revision, pushed to nodes)", async () => {
    t.server = await startServer();
    const sim = await connect("node-a");
    await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: "1", message: "narrow" },
    });
    const h = (await t.server.api("/api/history")).body.revisions;
    expect(h.map((r: { resourceVersion: string }) => r.resourceVersion)).toEqual(["2", "1"]);
    expect(h[0]).toMatchObject({
      author: "admin",
      message: "narrow",
      valid: true,
      diff: { added: [], removed: ["172.16.0.0/12", "192.168.0.0/16"], changed: [] },
    });
    expect(h[0].time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(h[1].author).toBe("system");

    expect(
      (await t.server.api("/api/history/1/rollback", { body: { resourceVersion: "1" } })).status,
    ).toBe(409);
    expect(
      (await t.server.api("/api/history/77/rollback", { body: { resourceVersion: "2" } })).status,
    ).toBe(404);
    const rb = await t.server.api("/api/history/1/rollback", { body: { resourceVersion: "2" } });
    expect(rb.status).toBe(200);
    expect(rb.body).toMatchObject({
      resourceVersion: "3",
      revision: 3,
      // Named no strategy, no rollout running: the default, all at once (its toast says so).
      rollsOut: { kind: "all-at-once" },
    });
    const cur = (await t.server.api("/api/config")).body;
    expect(cur.config.nonMasqueradeCIDRs).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]);
    expect(cur.message).toBe("rollback to revision 1");
    await sim.waitFor((m) => m.type === "desired" && m.revision === 3, 10_000);
  });
});
