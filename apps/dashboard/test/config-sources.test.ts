// Config merged from several sources (issue 14 part 2), file store: `ip-masq-*` files of the
// data dir merged with the store's config, provenance and conflicts in the API, a conflict
// never pushed (nodes keep the last good merge), the editor's source routes (preview, save with
// optimistic concurrency, a save that would add a conflict refused).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeEvent } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { FileSources, SETTLE_MS, UNSETTLED_PROBLEM_MS } from "../src/server/store/file-sources.js";
import { SimReporter } from "./helpers/reporter-client.js";
import {
  eventually,
  notPushedSave,
  perTest,
  reporterToken,
  saveSourceYaml,
  startServer,
} from "./helpers/server.js";

const t = perTest();
const PLATFORM = encodeURIComponent("file/ip-masq-platform");

async function serverWith(files: Record<string, string>, now?: () => number) {
  const dataDir = await mkdtemp(join(tmpdir(), "ipmasq-dash-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dataDir, name), text);
  const sources = new FileSources({ dir: dataDir, prefix: "ip-masq-", pollMs: 30, now });
  t.server = await startServer({ dataDir, sources });
  return { server: t.server, dataDir, sources };
}

describe("config sources (file store)", () => {
  it("merges ip-masq-* files with the config: every CIDR names its sources, nodes get the union", async () => {
    const { server } = await serverWith({
      "ip-masq-platform": "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\nmasqLinkLocal: true\n",
      "other.yaml": "nonMasqueradeCIDRs: [192.0.2.0/24]\n",
    });
    const node = await t.connect("node-a");
    const cfg = (await server.api("/api/config")).body;
    expect(cfg.merge.pushable).toBe(true);
    expect(
      cfg.merge.sources.map((s: { id: string; primary: boolean }) => [s.id, s.primary]),
    ).toEqual([
      ["file/config.yaml", true],
      ["file/ip-masq-platform", false],
    ]);
    const origin = (cidr: string) =>
      cfg.merge.cidrs.nonMasqueradeCIDRs
        .find((o: { cidr: string }) => o.cidr === cidr)
        ?.sources.map((s: { name: string }) => s.name);
    expect(origin("10.0.0.0/8")).toEqual(["config.yaml", "ip-masq-platform"]);
    expect(origin("100.64.0.0/10")).toEqual(["ip-masq-platform"]);
    expect(origin("192.0.2.0/24")).toBeUndefined();
    await eventually(() => node.lastDesired?.masqLinkLocal === true, 3000, "the merge pushed");
    expect(node.lastDesired?.nonMasqueradeCIDRs).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "100.64.0.0/10",
    ]);
    // The stored config is revision 1; nodes get the merge, numbered 2.
    expect(cfg.revision).toBe(1);
    expect(cfg.desiredRevision).toBe(2);
    // The numbers differ, and nothing was aborted: the server says so (the UI read 1 ≠ 2 as
    // "revision 1 was aborted" before it did).
    expect(cfg.abortedRevision).toBeNull();
    expect((await server.api("/api/nodes")).body.summary.abortedRevision).toBeNull();
  });

  it("a conflict is listed and never pushed: nodes keep the last good merge until it is resolved", async () => {
    const { server, dataDir } = await serverWith({ "ip-masq-platform": "resyncInterval: 60s\n" });
    const node = await t.connect("node-a");
    await eventually(() => node.lastDesired !== undefined, 3000, "first merge");
    const good = (await server.api("/api/config")).body;
    await writeFile(
      join(dataDir, "ip-masq-platform"),
      "resyncInterval: 30s\nnonMasqueradeCIDRs: [198.51.100.0/24]\n",
    );
    const conflicted = await eventually(async () => {
      const c = (await server.api("/api/config")).body;
      return c.merge.conflicts.length > 0 ? c : undefined;
    }, 3000);
    expect(conflicted.merge.pushable).toBe(false);
    expect(conflicted.merge.conflicts.map((c: { message: string }) => c.message)).toEqual([
      "resyncInterval differs between sources: 60s (file config.yaml) vs 30s (file ip-masq-platform); set it the same everywhere, or in one source only",
    ]);
    expect(conflicted.revision).toBe(good.revision);
    expect(conflicted.desiredRevision).toBe(good.desiredRevision);
    expect(node.lastDesired?.nonMasqueradeCIDRs).not.toContain("198.51.100.0/24");
    // A review of a primary edit while they conflict: no node gets it, so nothing changes (the
    // diff was of the primary text alone, which no node runs).
    const review = await server.api("/api/config/validate", {
      method: "POST",
      body: { yaml: "resyncInterval: 60s\nnonMasqueradeCIDRs: [10.0.0.0/8, 203.0.113.0/24]\n" },
    });
    expect(review.body.merge.pushable).toBe(false);
    expect([review.body.diff.added, review.body.diff.removed]).toEqual([[], []]);
    expect(review.body.impact.destinations).toEqual([]);
    // A source's preview while the merge conflicts: what the merge would change, no impact.
    const preview = await server.api(`/api/config/sources/${PLATFORM}/validate`, {
      method: "POST",
      body: {
        yaml: "resyncInterval: 30s\nnonMasqueradeCIDRs: [198.51.100.0/24, 198.51.101.0/24]\n",
      },
    });
    expect(preview.body.merge.pushable).toBe(false);
    expect(preview.body.diff.added).toEqual(["198.51.100.0/24", "198.51.101.0/24"]);
    expect(preview.body.impact.destinations).toEqual([]);
    await writeFile(join(dataDir, "ip-masq-platform"), "nonMasqueradeCIDRs: [198.51.100.0/24]\n");
    await eventually(
      () => node.lastDesired?.nonMasqueradeCIDRs.includes("198.51.100.0/24"),
      3000,
      "the resolved merge pushed",
    );
    const resolved = (await server.api("/api/config")).body;
    expect(resolved.merge.conflicts).toEqual([]);
    expect(resolved.desiredRevision).toBeGreaterThan(good.desiredRevision);
    // History says which source changed, and what nodes got from it (null: not pushed).
    const changes = (await server.api("/api/history/sources")).body.changes;
    expect(
      changes.map((c: { label: string; change: string; revision: number | null }) => [
        c.label,
        c.change,
        c.revision,
      ]),
    ).toEqual([
      ["file ip-masq-platform", "changed", resolved.desiredRevision],
      ["file ip-masq-platform", "changed", null],
    ]);
    expect(changes[0].diff).toMatchObject({ added: [], removed: [] });
    expect(changes[1].diff.added).toEqual(["198.51.100.0/24"]);
    // Only what the file sets: not the default CIDRs its parse fills in before it listed any.
    expect(changes[1].diff.removed).toEqual([]);
  });

  it("the editor saves one chosen source with optimistic concurrency, after a preview of the merge", async () => {
    const { server } = await serverWith({
      "ip-masq-platform": "nonMasqueradeCIDRs: [100.64.0.0/10]\n",
    });
    const src = (await server.api(`/api/config/sources/${PLATFORM}`)).body;
    expect(src).toMatchObject({ label: "file ip-masq-platform", editable: true, valid: true });
    const yaml = "nonMasqueradeCIDRs: [100.64.0.0/10, 203.0.113.0/24]\n";
    const preview = await server.api(`/api/config/sources/${PLATFORM}/validate`, {
      method: "POST",
      body: { yaml },
    });
    expect(preview.body).toMatchObject({
      ok: true,
      newConflicts: [],
      diff: { added: ["203.0.113.0/24"] },
    });
    expect(preview.body.impact.destinations).toEqual([
      { cidr: "203.0.113.0/24", change: "no-longer-masqueraded", nodes: 0 },
    ]);
    const stale = await server.api(`/api/config/sources/${PLATFORM}`, {
      method: "PUT",
      body: { yaml, resourceVersion: "not-the-resourceVersion" },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.current.yaml).toBe("nonMasqueradeCIDRs: [100.64.0.0/10]\n");
    const saved = await server.api(`/api/config/sources/${PLATFORM}`, {
      method: "PUT",
      body: { yaml, resourceVersion: src.resourceVersion, message: "docs range" },
    });
    expect(saved.status).toBe(200);
    // No rollout under way, the default strategy: what its editor's toast says.
    expect(saved.body.rollsOut).toEqual({ kind: "all-at-once" });
    await eventually(async () => {
      const c = (await server.api("/api/config")).body;
      return c.config && c.merge.config.nonMasqueradeCIDRs.includes("203.0.113.0/24");
    }, 3000);
  });

  it("refuses a save that would make the sources conflict, naming the conflict", async () => {
    const { server } = await serverWith({ "ip-masq-platform": "cidrLimit: 64\n" });
    const cfg = (await server.api("/api/config")).body;
    const preview = await server.api("/api/config/validate", {
      method: "POST",
      body: { yaml: "cidrLimit: 10\n" },
    });
    expect(preview.body.ok).toBe(true);
    expect(preview.body.newConflicts).toMatchObject([{ kind: "scalar", key: "cidrLimit" }]);
    const put = await server.api("/api/config", {
      method: "PUT",
      body: { yaml: "cidrLimit: 10\n", resourceVersion: cfg.resourceVersion },
    });
    expect(put.status).toBe(422);
    expect(put.body.error).toBe(
      "saving would make the config sources conflict: cidrLimit differs between sources: 10 (file config.yaml) vs 64 (file ip-masq-platform); set it the same everywhere, or in one source only",
    );
    expect((await server.api("/api/config")).body.resourceVersion).toBe(cfg.resourceVersion);
  });

  // A save while another source conflicts answered `rollsOut: all-at-once` (its toast: "nodes
  // are applying it now"), and no node changed: the merge it made was not pushed.
  it("a save while the sources conflict says it is not pushed, and why; one resolving it rolls out", async () => {
    const { server } = await serverWith({
      "ip-masq-platform": "resyncInterval: 30s\n",
      "ip-masq-team": "nonMasqueradeCIDRs: [100.100.0.0/16]\n",
    });
    const node = await t.connect("node-a");
    const cfg = (await server.api("/api/config")).body;
    expect(cfg.merge.pushable).toBe(false);
    const yaml = "nonMasqueradeCIDRs: [100.100.0.0/16, 100.101.0.0/16]\n";
    expect(await notPushedSave(server, "file/ip-masq-team", yaml)).toMatch(
      /^the config sources conflict: resyncInterval differs between sources: 60s \(file config\.yaml\) vs 30s \(file ip-masq-platform\)/,
    );
    // The primary config's save alike (it keeps the conflict).
    const primarySave = await server.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 60s\n",
        resourceVersion: cfg.resourceVersion,
      },
    });
    expect(primarySave.status).toBe(200);
    expect(primarySave.body).toMatchObject({ rollsOut: null });
    expect(primarySave.body.notPushed).toMatch(/^the config sources conflict: resyncInterval/);
    await new Promise((r) => setTimeout(r, 300)); // a push would have gone by now
    expect(node.lastDesired?.nonMasqueradeCIDRs ?? []).not.toContain("100.101.0.0/16");
    // A save that resolves the conflict rolls out.
    const resolved = await saveSourceYaml(
      server,
      "file/ip-masq-platform",
      "masqLinkLocal: false\n",
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body.rollsOut).toEqual({ kind: "all-at-once" });
    expect(resolved.body.notPushed).toBeUndefined();
    await eventually(
      () => node.lastDesired?.nonMasqueradeCIDRs.includes("100.101.0.0/16"),
      3000,
      "the resolved merge pushed",
    );
  });

  /** A reporter in observe mode, as beside an upstream agent. */
  async function observeNode(url: string) {
    const sim = await SimReporter.connect({
      url,
      token: reporterToken("node-o"),
      node: "node-o",
      mode: "observe",
    });
    t.sims.push(sim);
  }

  it("warns that nodes in observe mode beside upstream ip-masq-agent see the other sources as drift", async () => {
    const { server } = await serverWith({
      "ip-masq-platform": "nonMasqueradeCIDRs: [100.64.0.0/10]\n",
    });
    expect((await server.api("/api/config")).body.merge.observeWarning).toBeNull();
    await observeNode(server.url);
    const warning = await eventually(
      async () => (await server.api("/api/config")).body.merge.observeWarning,
      3000,
    );
    expect(warning).toMatch(
      /^1 node is in observe mode .* Upstream ip-masq-agent reads only file config\.yaml: there the CIDRs and settings of the other 1 source\(s\) show as drift/,
    );
  });

  it("refuses masqueradeCIDRs in any source while a node is in observe mode (upstream ignores the key)", async () => {
    const { server } = await serverWith({
      "ip-masq-platform": "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
    });
    await observeNode(server.url);
    await eventually(async () => (await server.api("/api/nodes/node-o")).status === 200, 3000);
    const src = (await server.api(`/api/config/sources/${PLATFORM}`)).body;
    const put = await server.api(`/api/config/sources/${PLATFORM}`, {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\nmasqueradeCIDRs: [10.100.10.0/24]\n",
        resourceVersion: src.resourceVersion,
      },
    });
    expect(put.status).toBe(422);
    expect(put.body.errors).toMatchObject([{ code: "observe-mode" }]);
    expect(put.body.error).toMatch(/node-o/);
    expect((await server.api(`/api/config/sources/${PLATFORM}`)).body.resourceVersion).toBe(
      src.resourceVersion,
    );
  });

  it("a revision a source change made is sent as that source's, not the last config saver's", async () => {
    // A new user's find: a file added after an admin's save reached nodes "saved by admin".
    const { server, dataDir } = await serverWith({});
    const node = await t.connect("node-a");
    const cfg = (await server.api("/api/config")).body;
    const put = await server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cfg.resourceVersion },
    });
    expect(put.status).toBe(200);
    await writeFile(join(dataDir, "ip-masq-team"), "nonMasqueradeCIDRs: [100.100.0.0/16]\n");
    await eventually(
      () => node.lastDesired?.nonMasqueradeCIDRs.includes("100.100.0.0/16"),
      3000,
      "the merge pushed",
    );
    const events = (await server.api("/api/nodes/node-a")).body.events as NodeEvent[];
    expect(events.filter((e) => e.kind === "desired-sent").map((e) => e.message)).toEqual([
      "revision 3 sent (saved by file (outside the dashboard) in file ip-masq-team)",
      "revision 2 sent (saved by admin)",
      "revision 1 sent (saved by system)",
    ]);
  });

  it("with only its own config, answers exactly as before (no merge, the store's revision)", async () => {
    const { server } = await serverWith({});
    const cfg = (await server.api("/api/config")).body;
    expect(cfg).toMatchObject({
      merge: null,
      resourceVersion: "1",
      revision: 1,
      desiredRevision: 1,
    });
  });

  it("a file that keeps changing is a problem of its source (API and /healthz) until it settles", async () => {
    let skipped = 0; // the sources' clock runs ahead by this much: no test waits 5 s
    const clock = () => performance.now() + skipped;
    const { server, dataDir, sources } = await serverWith(
      { "ip-masq-platform": "nonMasqueradeCIDRs: [100.64.0.0/10]\n" },
      clock,
    );
    const platform = async () =>
      (await server.api("/api/config")).body.merge.sources.find(
        (s: { id: string }) => s.id === "file/ip-masq-platform",
      );
    expect(await platform()).not.toHaveProperty("problem");
    for (let i = 0; skipped <= UNSETTLED_PROBLEM_MS; i++) {
      // A writer looping: the size changes every time, the file never holds still.
      await writeFile(join(dataDir, "ip-masq-platform"), `# ${"x".repeat(i)}\n`);
      await sources.scan();
      skipped += SETTLE_MS / 2;
    }
    const { problem } = await platform();
    expect(problem).toMatch(
      /^file ip-masq-platform has kept changing since \d{4}-\d\d-\d\dT[\d:.]+Z .*: nodes keep its last settled version$/,
    );
    expect((await server.api(`/api/config/sources/${PLATFORM}`)).body.problem).toBe(problem);
    const health = await server.api("/healthz", { token: null });
    expect(health.body.problems).toContain(problem);
    skipped += SETTLE_MS; // the writer stopped
    await eventually(async () => (await platform()).problem === undefined, 3000, "cleared");
    expect((await server.api("/healthz", { token: null })).body.problems).toEqual([]);
  });
});
