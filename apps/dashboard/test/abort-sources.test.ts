// An aborted change must not come back behind the operator's back (a new user's find): after a
// staged rollout is aborted, the primary config's text still holds the aborted change, so a
// merge published because another config source changed would carry it to every node, at once
// and unreviewed. Such a merge is held (nodes keep what they run since the abort, the config
// page says why) until an admin saves the primary config again.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileSources } from "../src/server/store/file-sources.js";
import { untilCanaryApplied, waves } from "./helpers/rollout.js";
import { eventually, notPushedSave, perTest, startServer } from "./helpers/server.js";

const t = perTest();
const ABORTED = "198.51.100.0/24";

async function abortedSave(files: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), "ipmasq-dash-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dataDir, name), text);
  const sources = new FileSources({ dir: dataDir, prefix: "ip-masq-", pollMs: 30 });
  t.server = await startServer({ dataDir, sources });
  const server = t.server;
  const nodes = [await t.connect("node-a"), await t.connect("node-b"), await t.connect("node-c")];
  await eventually(
    async () =>
      (await server.api("/api/nodes")).body.summary.byStatus["in-sync"] === 3 || undefined,
    5000,
    "3 nodes in sync",
  );
  const stable = (await server.api("/api/config")).body;
  const put = await server.api("/api/config", {
    method: "PUT",
    body: {
      yaml: `nonMasqueradeCIDRs: [10.0.0.0/8, ${ABORTED}]\n`,
      resourceVersion: stable.resourceVersion,
      strategy: waves({ count: 1 }),
    },
  });
  expect(put.status).toBe(200);
  await untilCanaryApplied(server);
  expect((await server.api("/api/rollout/abort", { method: "POST", body: {} })).status).toBe(200);
  await eventually(
    () => nodes.every((n) => !n.lastDesired?.nonMasqueradeCIDRs.includes(ABORTED)) || undefined,
    5000,
    "every node back on the stable revision",
  );
  const after = (await server.api("/api/config")).body;
  expect(after.desiredRevision).toBe(stable.desiredRevision);
  // The server says what was aborted, numbered as nodes see revisions (the UI never infers it).
  const aborted = (await server.api("/api/rollout")).body.rollout.revision;
  expect(aborted).toBeGreaterThan(stable.desiredRevision);
  expect(after.abortedRevision).toBe(aborted);
  expect((await server.api("/api/nodes")).body.summary.abortedRevision).toBe(aborted);
  return { server, dataDir, nodes, stable };
}

describe("a config source changed after an abort", () => {
  it("is held: the aborted change reaches no node until the primary is saved again", async () => {
    const { server, dataDir, nodes, stable } = await abortedSave({});
    await writeFile(join(dataDir, "ip-masq-team"), "nonMasqueradeCIDRs: [100.100.0.0/16]\n");
    const held = await eventually(async () => {
      const c = (await server.api("/api/config")).body;
      return c.merge?.held ? c : undefined;
    }, 3000);
    expect(held.merge.pushable).toBe(false);
    expect(held.merge.held).toMatch(
      new RegExp(
        `^revision ${held.revision} was aborted: every node runs revision ${stable.desiredRevision}`,
      ),
    );
    expect(held.desiredRevision).toBe(stable.desiredRevision);
    await new Promise((r) => setTimeout(r, 300)); // a push would have gone by now
    for (const n of nodes) expect(n.lastDesired?.nonMasqueradeCIDRs).not.toContain(ABORTED);
    // History: the source change, not pushed (null), its own diff.
    const change = (await server.api("/api/history/sources")).body.changes[0];
    expect(change).toMatchObject({ change: "added", revision: null });
    expect(change.diff.added).toEqual(["100.100.0.0/16"]);

    // An admin saves the primary again (here without the aborted CIDR): the merge goes out.
    const cur = (await server.api("/api/config")).body;
    const put = await server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cur.resourceVersion },
    });
    expect(put.status).toBe(200);
    await eventually(
      () =>
        nodes.every((n) => n.lastDesired?.nonMasqueradeCIDRs.includes("100.100.0.0/16")) ||
        undefined,
      3000,
      "the merge pushed after the save",
    );
    const after = (await server.api("/api/config")).body;
    expect(after.merge.held ?? null).toBeNull();
    expect(after.merge.pushable).toBe(true);
    for (const n of nodes) expect(n.lastDesired?.nonMasqueradeCIDRs).not.toContain(ABORTED);
  });

  it("a source removed after an abort is held alike", async () => {
    const { server, dataDir, nodes } = await abortedSave({
      "ip-masq-team": "nonMasqueradeCIDRs: [100.100.0.0/16]\n",
    });
    await rm(join(dataDir, "ip-masq-team"));
    await eventually(
      async () => (await server.api("/api/config")).body.merge?.held || undefined,
      3000,
    );
    await new Promise((r) => setTimeout(r, 300));
    for (const n of nodes) {
      expect(n.lastDesired?.nonMasqueradeCIDRs).not.toContain(ABORTED);
      expect(n.lastDesired?.nonMasqueradeCIDRs).toContain("100.100.0.0/16");
    }
  });
  // The source editor's preview compared with the aborted merge, not what nodes run, and said
  // nothing of the hold: it read "what nodes get" for a merge no node would get.
  it("a source's preview after an abort is from what nodes run and says the merge is held", async () => {
    const { server, nodes } = await abortedSave({
      "ip-masq-team": "nonMasqueradeCIDRs: [100.100.0.0/16]\n",
    });
    const preview = await server.api(
      `/api/config/sources/${encodeURIComponent("file/ip-masq-team")}/validate`,
      {
        method: "POST",
        body: { yaml: "nonMasqueradeCIDRs: [100.100.0.0/16, 100.102.0.0/16]\n" },
      },
    );
    expect(preview.status).toBe(200);
    expect(preview.body.merge.held).toMatch(/was aborted/);
    // Nodes run the stable revision: the held merge would add the aborted CIDR too.
    expect([...preview.body.diff.added].sort()).toEqual([ABORTED, "100.102.0.0/16"].sort());
    // The source as it is: the merge is the aborted config, which stays aborted.
    const same = await server.api(
      `/api/config/sources/${encodeURIComponent("file/ip-masq-team")}/validate`,
      { method: "POST", body: { yaml: "nonMasqueradeCIDRs: [100.100.0.0/16]\n" } },
    );
    expect(same.body.merge.held).toMatch(/whose staged rollout was aborted: it stays aborted/);
    for (const n of nodes) expect(n.lastDesired?.nonMasqueradeCIDRs).not.toContain(ABORTED);
  });

  // A source saved while the merge is held answered `rollsOut: all-at-once` (its toast: "nodes
  // are applying it now"), and no node changed.
  it("a source saved while the merge is held says it is not pushed, and why", async () => {
    const { server, nodes } = await abortedSave({
      "ip-masq-team": "nonMasqueradeCIDRs: [100.100.0.0/16]\n",
    });
    const yaml = "nonMasqueradeCIDRs: [100.100.0.0/16, 100.102.0.0/16]\n";
    expect(await notPushedSave(server, "file/ip-masq-team", yaml)).toMatch(
      /^revision \d+ was aborted: every node runs revision \d+/,
    );
    await new Promise((r) => setTimeout(r, 300)); // a push would have gone by now
    for (const n of nodes)
      expect(n.lastDesired?.nonMasqueradeCIDRs).not.toContain("100.102.0.0/16");
  });

  // Rollouts of merges are recorded under merged resourceVersions (`<primary>+<n>@r<revision>`):
  // History looked them up by the stored revision's own, and the aborted rollout showed as none.
  it("History shows the aborted staged rollout on the stored revision the merge was made from", async () => {
    const { server, stable } = await abortedSave({
      "ip-masq-team": "nonMasqueradeCIDRs: [100.100.0.0/16]\n",
    });
    const saved = (await server.api("/api/config")).body.resourceVersion;
    const revisions = (await server.api("/api/history")).body.revisions;
    const rev = (rv: string) =>
      revisions.find((r: { resourceVersion: string }) => r.resourceVersion === rv);
    expect(rev(saved).rollout).toMatchObject({ aborted: true });
    // Of the merge made from it, recorded under the merge's resourceVersion.
    expect(rev(saved).rollout.resourceVersion).toMatch(new RegExp(`^${saved}\\+1@r\\d+$`));
    expect(rev(saved).rollouts).toHaveLength(1);
    expect(rev(saved).rollout.actions.map((a: { action: string }) => a.action)).toContain("abort");
    expect(rev(stable.resourceVersion).rollout).toBeUndefined();
  });

  // The hold lived in memory only: sources changed while the dashboard was down made a new
  // merge at its start, and the aborted change went to every node at once.
  it.each([
    ["edited", "nonMasqueradeCIDRs: [100.101.0.0/16]\n"],
    ["removed", null],
  ])("a source %s while the dashboard was down is held at its start", async (_, text) => {
    const { server, dataDir, stable } = await abortedSave({
      "ip-masq-team": "nonMasqueradeCIDRs: [100.100.0.0/16]\n",
    });
    const aborted = (await server.api("/api/config")).body.abortedRevision;
    for (const s of t.sims.splice(0)) s.ws.terminate();
    await server.stop();
    if (text === null) await rm(join(dataDir, "ip-masq-team"));
    else await writeFile(join(dataDir, "ip-masq-team"), text);
    const sources = new FileSources({ dir: dataDir, prefix: "ip-masq-", pollMs: 30 });
    t.server = await startServer({ dataDir, sources });
    const restarted = t.server;
    const nodes = [await t.connect("node-a"), await t.connect("node-b")];
    await eventually(() => nodes.every((n) => n.lastDesired) || undefined, 5000, "desired sent");
    for (const n of nodes) {
      expect(n.lastDesired?.nonMasqueradeCIDRs).not.toContain(ABORTED);
      expect(n.lastDesired?.nonMasqueradeCIDRs).toContain("100.100.0.0/16");
    }
    const held = (await restarted.api("/api/config")).body;
    expect(held).toMatchObject({
      desiredRevision: stable.desiredRevision,
      abortedRevision: aborted,
    });
    expect(held.merge.pushable).toBe(false);
    expect(held.merge.held).toMatch(new RegExp(`^revision ${aborted} was aborted`));
    // A save of the primary ends the hold, as it does while running.
    const put = await restarted.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: held.resourceVersion },
    });
    expect(put.status).toBe(200);
    // The saved config goes out merged with the sources as they are now.
    const now = text === null ? [] : ["100.101.0.0/16"];
    const want = ["10.0.0.0/8", ...now];
    await eventually(
      () =>
        nodes.every(
          (n) =>
            [...(n.lastDesired?.nonMasqueradeCIDRs ?? [])].sort().join() === want.sort().join(),
        ) || undefined,
      3000,
      `the save pushed with the sources as they are: ${nodes.map((n) => n.lastDesired?.nonMasqueradeCIDRs.join(",")).join(" | ")}`,
    );
    const saved = (await restarted.api("/api/config")).body;
    expect(saved.merge?.held ?? null).toBeNull();
    // Numbered above every revision handed out before the restart: never the aborted one's.
    expect(saved.desiredRevision).toBeGreaterThan(aborted);
    expect(saved.abortedRevision).toBeNull();
    for (const n of nodes) expect(n.lastDesired?.nonMasqueradeCIDRs).not.toContain(ABORTED);
  });
});
