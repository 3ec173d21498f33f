// A real `ipmasq run` reporter on real iptables in a network namespace heals a hand edit while
// its dashboard is stopped (resyncInterval 2s): before, nobody was ever told, the node simply in
// sync at reconnect. Back, the dashboard shows the heal on the node's timeline. A dashboard of
// the previous release (not granting `unheard-heals`) gets nothing new and refuses nothing; the
// heal waits for a dashboard that can hear it.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  APPLY_RESULT_SNAPSHOT,
  type Capability,
  CHAIN_DIGESTS,
  SNAPSHOT_DIGESTS,
} from "@masq/shared";
import { inNetns } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";
import { saveYaml, startServer } from "./helpers/server.js";

/** What a dashboard of the previous release grants. */
const PREVIOUS: Capability[] = [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT];
const HEALED =
  /^while the dashboard did not hear from it, its rules drifted from revision (\d+) \(what differed: [^)]+\) and the reporter changed them back at \S+ by the node's clock$/;

let fleet: NetnsFleet | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

type Entry = { kind: string; message: string };
const timeline = async (f: NetnsFleet, name: string): Promise<Entry[]> =>
  (await f.server.api(`/api/nodes/${name}`)).body.events ?? [];

/**
 * A fleet of one node whose dashboard grants `grants(start)` at its start-th start; the node's
 * config re-applied every 2 s; in sync. Returns it with the revision it runs and its rules.
 */
async function oneNode(grants: (start: number) => Capability[] | undefined) {
  const dir = await mkdtemp(join(tmpdir(), "imd-heals-"));
  dataDir = dir;
  let starts = 0;
  const f = await startNetnsFleet([{ tag: "h" }], {
    dashboard: (port) => {
      const g = grants(starts++);
      return startServer({ dataDir: dir, port, ...(g ? { reporterCapabilities: g } : {}) });
    },
  });
  fleet = f;
  const node = f.nodes[0]!;
  const put = await saveYaml(f.server, "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 2s\n");
  expect(put.status).toBe(200);
  const revision: number = put.body.revision;
  await until(
    async () => {
      const n = (await f.server.api(`/api/nodes/${node.name}`)).body.node;
      return n?.status === "in-sync" && n.appliedRevision === revision;
    },
    20_000,
    50,
    "in sync with the save",
  );
  return { f, node, revision, rules: f.rules(node) };
}

/** Dashboard stopped; the agent chain's first rule deleted by hand; the reporter heals it. */
async function editAndHealWhileAway(
  f: NetnsFleet,
  node: NetnsFleet["nodes"][number],
  rules: string[],
) {
  await f.stopDashboard();
  inNetns(node.netns, ["iptables", "-w", "-t", "nat", "-D", "IP-MASQ-AGENT", "1"]);
  expect(f.rules(node)).not.toEqual(rules);
  await until(
    () => f.rules(node).join("\n") === rules.join("\n"),
    15_000,
    50,
    "healed by the reporter",
  );
}

describe("heals a reporter made while its dashboard was stopped", () => {
  it("are on the node's timeline once the dashboard is back", async () => {
    const { f, node, revision, rules } = await oneNode(() => undefined);
    await editAndHealWhileAway(f, node, rules);
    await f.startDashboard();
    await until(
      async () => (await timeline(f, node.name)).some((e) => HEALED.test(e.message)),
      20_000,
      100,
      "the heal told",
    );
    const entry = (await timeline(f, node.name)).find((e) => HEALED.test(e.message));
    expect(entry?.kind).toBe("drift");
    expect(HEALED.exec(entry?.message ?? "")?.[1]).toBe(String(revision));
    // Told once: the reporter forgot them once sent.
    expect((await timeline(f, node.name)).filter((e) => HEALED.test(e.message))).toHaveLength(1);
  }, 90_000);

  it("are kept across a reporter restart made before the dashboard came back, told once", async () => {
    const { f, node, revision, rules } = await oneNode(() => undefined);
    await editAndHealWhileAway(f, node, rules);
    const file = join(node.stateDir, "unheard-heals.json");
    await until(async () => existsSync(file), 10_000, 50, "the heal kept in the state dir");
    // A DaemonSet rollout or an OOM kill: before, the heal lived in memory only and was lost.
    await f.restartReporter(node);
    await f.startDashboard();
    await until(
      async () => (await timeline(f, node.name)).some((e) => HEALED.test(e.message)),
      20_000,
      100,
      "the heal from before the restart told",
    );
    const told = (await timeline(f, node.name)).filter((e) => HEALED.test(e.message));
    expect(told).toHaveLength(1);
    expect(HEALED.exec(told[0]!.message)?.[1]).toBe(String(revision));
    // Sent, so forgotten: the file is gone and a further restart tells nothing again.
    await until(async () => !existsSync(file), 10_000, 50, "the file removed once sent");
    await f.restartReporter(node);
    await until(
      async () => (await f.server.api(`/api/nodes/${node.name}`)).body.node?.connected === true,
      20_000,
      100,
      "reconnected",
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect((await timeline(f, node.name)).filter((e) => HEALED.test(e.message))).toHaveLength(1);
  }, 120_000);

  it("are not sent to a dashboard of the previous release, and reach the next that can hear them", async () => {
    // First start: this release (the save); second: the previous release; third: this one.
    const { f, node, rules } = await oneNode((start) => (start === 1 ? PREVIOUS : undefined));
    await editAndHealWhileAway(f, node, rules);
    await f.startDashboard();
    await until(
      async () => (await f.server.api(`/api/nodes/${node.name}`)).body.node?.connected === true,
      20_000,
      100,
      "back on the previous release's dashboard",
    );
    // Long enough for the message, had it been sent after hello, to be refused or told.
    await new Promise((r) => setTimeout(r, 1500));
    const old = await timeline(f, node.name);
    expect(old.filter((e) => HEALED.test(e.message))).toEqual([]);
    expect(old.filter((e) => /1008|unheard-heals/.test(e.message))).toEqual([]);
    expect((await f.server.api(`/api/nodes/${node.name}`)).body.node.connected).toBe(true);

    await f.stopDashboard();
    await f.startDashboard();
    await until(
      async () => (await timeline(f, node.name)).some((e) => HEALED.test(e.message)),
      20_000,
      100,
      "the heal told to this release's dashboard",
    );
  }, 120_000);
});
