// One revision number names one config, across saves and restarts, with config sources merged
// (an adversarial tester's finds): a save was stored as revision 5 while nodes ran merged
// revision 5, and the aborted-change notice then pointed at the aborted text as "revision 5";
// a restart numbered a staged rollout's merge anew (revision 11 came back as 10, equal to the
// revision before it), and an aborted revision's number moved.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileSources } from "../src/server/store/file-sources.js";
import { untilCanaryApplied, waves } from "./helpers/rollout.js";
import { eventually, perTest, startServer } from "./helpers/server.js";

const t = perTest();
const PLATFORM = "nonMasqueradeCIDRs: [100.64.0.0/10]\n";

async function boot(dataDir: string) {
  const sources = new FileSources({ dir: dataDir, prefix: "ip-masq-", pollMs: 30 });
  t.server = await startServer({ dataDir, sources });
  const nodes = [await t.connect("node-a"), await t.connect("node-b"), await t.connect("node-c")];
  await eventually(() => nodes.every((n) => n.lastDesired) || undefined, 5000, "desired sent");
  return { server: t.server, nodes };
}

async function restart(dataDir: string) {
  for (const s of t.sims.splice(0)) s.ws.terminate();
  await t.server?.stop();
  return boot(dataDir);
}

type Server = Awaited<ReturnType<typeof boot>>["server"];

async function save(server: Server, yaml: string, strategy?: ReturnType<typeof waves>) {
  const cur = (await server.api("/api/config")).body;
  const put = await server.api("/api/config", {
    method: "PUT",
    body: { yaml, resourceVersion: cur.resourceVersion, ...(strategy ? { strategy } : {}) },
  });
  expect(put.status).toBe(200);
}

const storedNumbers = async (server: Server): Promise<number[]> =>
  (await server.api("/api/history")).body.revisions.map((r: { revision: number }) => r.revision);

async function start() {
  const dataDir = await mkdtemp(join(tmpdir(), "ipmasq-dash-"));
  await writeFile(join(dataDir, "ip-masq-platform"), PLATFORM);
  return { dataDir, ...(await boot(dataDir)) };
}

describe("merged revision numbers", () => {
  it("a save is never stored under a number a merge took", async () => {
    const { server } = await start();
    const merged = new Set<number>([(await server.api("/api/config")).body.desiredRevision]);
    for (const cidr of ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"]) {
      await save(server, `nonMasqueradeCIDRs: [10.0.0.0/8, ${cidr}]\n`);
      merged.add((await server.api("/api/config")).body.desiredRevision);
    }
    await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8, 10.9.0.0/16]\n", waves({ count: 1 }));
    await untilCanaryApplied(server);
    expect((await server.api("/api/rollout/abort", { method: "POST", body: {} })).status).toBe(200);
    const cfg = (await server.api("/api/config")).body;
    merged.add(cfg.abortedRevision);
    const stored = await storedNumbers(server);
    expect(stored.filter((r) => merged.has(r))).toEqual([]);
    // What nodes run after the abort is not a stored revision's number.
    expect(stored).not.toContain(cfg.desiredRevision);
  });

  it("merges rolled out at once are numbered above across a restart", async () => {
    const { dataDir, server } = await start();
    const seen: number[] = [];
    for (const cidr of ["100.100.0.0/16", "100.101.0.0/16", "100.102.0.0/16"]) {
      await writeFile(join(dataDir, "ip-masq-team"), `nonMasqueradeCIDRs: [${cidr}]\n`);
      seen.push(
        await eventually(async () => {
          const c = (await server.api("/api/config")).body;
          return c.merge?.config?.nonMasqueradeCIDRs?.includes(cidr)
            ? c.desiredRevision
            : undefined;
        }, 3000),
      );
    }
    const again = await restart(dataDir);
    const after = (await again.server.api("/api/config")).body.desiredRevision;
    expect(after).toBeGreaterThan(Math.max(...seen));
    await save(again.server, "nonMasqueradeCIDRs: [10.0.0.0/8, 10.30.0.0/16]\n");
    const stored = await storedNumbers(again.server);
    expect(stored.filter((r) => seen.includes(r) || r === after)).toEqual([]);
  });

  it("a restart keeps an unfinished rollout's numbers, and an aborted one's", async () => {
    const { dataDir, server } = await start();
    // Source changes number merges past the stored revisions.
    for (const cidr of ["100.100.0.0/16", "100.101.0.0/16"]) {
      await writeFile(join(dataDir, "ip-masq-team"), `nonMasqueradeCIDRs: [${cidr}]\n`);
      await eventually(
        async () =>
          (await server.api("/api/config")).body.merge?.config?.nonMasqueradeCIDRs?.includes(
            cidr,
          ) || undefined,
        3000,
        `the team source with ${cidr}`,
      );
    }
    await save(server, "nonMasqueradeCIDRs: [10.0.0.0/8, 10.20.0.0/16]\n", waves({ count: 1 }));
    await untilCanaryApplied(server);
    // A source change during the rollout: its merge is the rollout's revision from then on.
    await writeFile(join(dataDir, "ip-masq-team"), "nonMasqueradeCIDRs: [100.102.0.0/16]\n");
    await eventually(
      async () =>
        (await server.api("/api/rollout")).body.rollout?.revision >
          ((await storedNumbers(server))[0] ?? 0) + 1 || undefined,
      3000,
      "the rollout's merge renumbered by the source change",
    );
    const before = await untilCanaryApplied(server);
    expect(before.revision).toBeGreaterThan(before.previousRevision ?? Infinity);

    const again = await restart(dataDir);
    const after = (await again.server.api("/api/rollout")).body.rollout;
    expect([after.revision, after.previousRevision]).toEqual([
      before.revision,
      before.previousRevision,
    ]);
    expect((await again.server.api("/api/config")).body.desiredRevision).toBe(before.revision);

    expect(
      (await again.server.api("/api/rollout/abort", { method: "POST", body: {} })).status,
    ).toBe(200);
    const aborted = (await again.server.api("/api/config")).body;
    expect(aborted.abortedRevision).toBe(before.revision);
    expect(aborted.desiredRevision).toBe(before.previousRevision);

    const third = await restart(dataDir);
    const cfg = (await third.server.api("/api/config")).body;
    expect([cfg.abortedRevision, cfg.desiredRevision]).toEqual([
      before.revision,
      before.previousRevision,
    ]);
    // Nodes are sent what they ran before the restart: the stable revision, by its number.
    await eventually(
      () =>
        third.nodes.every((n) => !n.lastDesired?.nonMasqueradeCIDRs.includes("10.20.0.0/16")) ||
        undefined,
      5000,
      "the stable revision sent",
    );
  });
});
