// History's comparisons say what nodes run. The rollback dialog's is the server's, from what
// nodes run to what the rollback would send them; it compared two stored texts before, which
// with several config sources is not what nodes run: a CIDR another source also lists was shown
// as removed ("traffic to it will be masqueraded") while the rollback changed nothing on any
// node. Comparing two revisions compares their merges with today's sources alike.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RollbackImpactResponse } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { FileSources } from "../src/server/store/file-sources.js";
import { untilCanaryApplied, waves } from "./helpers/rollout.js";
import { eventually, perTest, startServer } from "./helpers/server.js";

const t = perTest();

async function start(files: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), "ipmasq-dash-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dataDir, name), text);
  const sources =
    Object.keys(files).length > 0
      ? new FileSources({ dir: dataDir, prefix: "ip-masq-", pollMs: 30 })
      : undefined;
  t.server = await startServer({ dataDir, ...(sources ? { sources } : {}) });
  const nodes = [await t.connect("node-a"), await t.connect("node-b")];
  await eventually(() => nodes.every((n) => n.lastDesired) || undefined, 5000, "desired sent");
  return { server: t.server, nodes, dataDir };
}

type Server = Awaited<ReturnType<typeof start>>["server"];

const runs = (cidr: string) => (n: { lastDesired?: { nonMasqueradeCIDRs: string[] } }) =>
  n.lastDesired?.nonMasqueradeCIDRs.includes(cidr) === true;

/** The team source sets resyncInterval 30s, which a revision saying 90s conflicts with. */
async function conflictingTeam(server: Server, dataDir: string) {
  await writeFile(join(dataDir, "ip-masq-team"), "resyncInterval: 30s\n");
  await eventually(
    async () =>
      (await server.api("/api/config")).body.merge?.config?.resyncInterval === "30s" || undefined,
    3000,
    "the team source re-read",
  );
}

async function save(server: Server, yaml: string, extra: Record<string, unknown> = {}) {
  const cur = (await server.api("/api/config")).body;
  const put = await server.api("/api/config", {
    method: "PUT",
    body: { yaml, resourceVersion: cur.resourceVersion, ...extra },
  });
  expect(put.status).toBe(200);
  return put.body as { resourceVersion: string; revision: number };
}

async function impact(server: Server, rv: string): Promise<RollbackImpactResponse> {
  const r = await server.api(`/api/history/${encodeURIComponent(rv)}/rollback-impact`);
  expect(r.status).toBe(200);
  return r.body;
}

const cidrs = (r: RollbackImpactResponse) => {
  if (!r.known) throw new Error(`not known: ${r.reason}`);
  return r.keys.find((k) => k.key === "nonMasqueradeCIDRs");
};

describe("rollback impact", () => {
  it("with several sources compares the merges nodes run and would run, not stored texts", async () => {
    const { server, nodes } = await start({
      "ip-masq-team": "nonMasqueradeCIDRs: [192.0.2.0/24]\n",
    });
    const a = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8, 192.0.2.0/24, 198.51.100.0/24]\n");
    await eventually(() => nodes.every(runs("198.51.100.0/24")) || undefined, 5000, "applied");
    const r = await impact(server, a.resourceVersion);
    if (!r.known) throw new Error(r.reason);
    expect(r.merged).toBe(true);
    // 192.0.2.0/24 stays: the team source lists it. The texts' diff said it went too.
    expect(r.diff.removed).toEqual(["198.51.100.0/24"]);
    expect(r.diff.added).toEqual([]);
    expect(cidrs(r)?.to).toEqual(["10.0.0.0/8", "192.0.2.0/24"]);
    expect(r.from.revision).toBe((await server.api("/api/config")).body.desiredRevision);
    expect(r.notes.join(" ")).toMatch(/merged with the other config sources as they are now/);
    expect(r.refusal).toBeUndefined();
    expect(r.impact.nodes).toBe(2);
  });

  it("a rollback that changes nothing on nodes says so, whatever the stored texts say", async () => {
    const { server } = await start({ "ip-masq-team": "nonMasqueradeCIDRs: [192.0.2.0/24]\n" });
    const a = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8, 192.0.2.0/24]\n");
    const r = await impact(server, a.resourceVersion);
    if (!r.known) throw new Error(r.reason);
    expect(r.diff.added).toEqual([]);
    expect(r.diff.removed).toEqual([]);
    expect(r.keys.every((k) => !k.changed)).toBe(true);
  });

  it("a target whose merge would conflict is not judged: the rollback would be refused", async () => {
    const { server, dataDir } = await start({
      "ip-masq-team": "nonMasqueradeCIDRs: [192.0.2.0/24]\n",
    });
    const a = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 90s\n");
    await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    await conflictingTeam(server, dataDir);
    const r = await impact(server, a.resourceVersion);
    expect(r.known).toBe(false);
    if (r.known) return;
    expect(r.reason).toMatch(
      /^revision \d+'s config, merged with the other config sources as they are now, conflicts \(resyncInterval differs between sources.*\): the rollback would be refused$/,
    );
    const post = await server.api(`/api/history/${a.resourceVersion}/rollback`, {
      method: "POST",
      body: { resourceVersion: (await server.api("/api/config")).body.resourceVersion },
    });
    expect(post.status).toBe(422);
  });

  it("after an aborted rollout compares from the stable revision nodes returned to", async () => {
    const { server, nodes } = await start({});
    const a = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    await eventually(
      () => nodes.every((n) => n.lastDesired?.nonMasqueradeCIDRs.length === 1) || undefined,
      5000,
    );
    const stable = (await server.api("/api/config")).body.desiredRevision;
    await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n", {
      strategy: waves({ count: 1 }),
    });
    await untilCanaryApplied(server);
    const during = await impact(server, a.resourceVersion);
    if (!during.known) throw new Error(during.reason);
    expect(during.notes.join(" ")).toMatch(
      /is still rolling out: nodes it has not reached run revision/,
    );
    expect((await server.api("/api/rollout/abort", { method: "POST", body: {} })).status).toBe(200);
    const r = await impact(server, a.resourceVersion);
    if (!r.known) throw new Error(r.reason);
    expect(r.from.revision).toBe(stable);
    expect(r.notes[0]).toMatch(
      new RegExp(
        `was aborted: nodes run revision ${stable}, so the change is from revision ${stable}`,
      ),
    );
    // Nodes run revision a already: rolling back to it changes nothing.
    expect(r.diff.removed).toEqual([]);
    expect(r.merged).toBe(false);
  });

  it("refuses a malformed or unknown revision with a clear error", async () => {
    const { server } = await start({});
    const unknown = await server.api("/api/history/no-such/rollback-impact");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/no revision with resourceVersion no-such/);
    const long = await server.api(`/api/history/${"x".repeat(5000)}/rollback-impact`);
    expect(long.status).toBe(400);
  });
});

describe("comparing two revisions with several config sources", () => {
  const compare = async (server: Server, from: string, to: string) => {
    const r = await server.api(`/api/history/compare?from=${from}&to=${to}`);
    expect(r.status).toBe(200);
    return r.body;
  };

  it("compares the merges nodes would run, said in a note", async () => {
    const { server } = await start({ "ip-masq-team": "nonMasqueradeCIDRs: [192.0.2.0/24]\n" });
    const a = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    const b = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8, 192.0.2.0/24]\n");
    const c = await compare(server, a.resourceVersion, b.resourceVersion);
    expect(c.merged).toBe(true);
    expect(c.diff.added).toEqual([]); // the team source lists it on both sides
    expect(c.keys.every((k: { changed: boolean }) => !k.changed)).toBe(true);
    expect(c.notes[0]).toMatch(/both sides are the revisions' texts merged with those sources/);
  });

  it("a side whose merge conflicts is compared as stored, and said so", async () => {
    const { server, dataDir } = await start({
      "ip-masq-team": "nonMasqueradeCIDRs: [192.0.2.0/24]\n",
    });
    const a = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 90s\n");
    const b = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8, 203.0.113.0/24]\n");
    await conflictingTeam(server, dataDir);
    const c = await compare(server, a.resourceVersion, b.resourceVersion);
    expect(c.merged).toBe(false);
    expect(c.diff.added).toEqual(["203.0.113.0/24"]);
    expect(c.notes[0]).toMatch(
      new RegExp(
        `^Merged with the other config sources as they are now, revision ${a.revision} conflicts`,
      ),
    );
  });

  it("with one source compares the stored texts, with no note", async () => {
    const { server } = await start({});
    const a = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    const b = await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8, 203.0.113.0/24]\n");
    const c = await compare(server, a.resourceVersion, b.resourceVersion);
    expect(c.merged).toBeUndefined();
    expect(c.notes).toBeUndefined();
    expect(c.diff.added).toEqual(["203.0.113.0/24"]);
  });
});
