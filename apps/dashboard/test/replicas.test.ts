// Issue 17 §3: three dashboard processes (the built bin, as the Deployment runs it) against the
// test API server through the real client-node, behind one Service (kube-proxy's round robin);
// real `ipmasq run` reporters in network namespaces, spread over them. A save on one replica
// reaches every node; a resync clicked on a second reaches a node held by the third; when a
// replica is killed its reporters reconnect to the others within 10 s, every replica's fleet
// view shows every node, and no node's rules change meanwhile (iptables-save before/after).
// A replica frozen with SIGSTOP (no FIN, no RST: its node lost power) is left by its reporters
// within 10 s too, through the link's liveness (apps/reporter/src/link-liveness.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPORTER_PATH } from "@masq/shared";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { inNetns, natRules, netnsPool } from "@masq/testkit/netns";
import { freePort, startReporter } from "@masq/testkit/processes";
import { ServiceProxy } from "@masq/testkit/service-proxy";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { type Replica, ready, replicaProcess } from "./helpers/replica-process.js";
import { saveYaml } from "./helpers/server.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startDashboard(fake: FakeKubeApi, pod: string, port: number, dir: string): Replica {
  return replicaProcess(fake, { pod, port, dir }, (stop) => cleanups.push(stop));
}

/** A reporter's identity as the chart gives it: a projected token bound to its node. */
function reporterToken(fake: FakeKubeApi, node: string): string {
  fake.addNode(node);
  const token = `sa-token-${node}`;
  fake.addToken(
    token,
    {
      username: fake.chart!.reporterUser,
      extra: { "authentication.kubernetes.io/node-name": [node] },
    },
    ["ipmasq-dashboard"],
  );
  return token;
}

/** The nat table as iptables-save prints it, without its timestamped comments. */
const natSave = (ns: string) =>
  inNetns(ns, ["iptables-save", "-t", "nat"])
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");

const holder = (fake: FakeKubeApi, node: string): string | undefined =>
  fake.customObject("nodemasquerades", "", node)?.status?.replica;

async function fleetOf(r: Replica): Promise<{ total: number; inSync: number; names: string[] }> {
  const body = (await r.api("/api/nodes")).body;
  return {
    total: body.summary?.total,
    inSync: body.summary?.byStatus?.["in-sync"],
    names: (body.nodes ?? []).map((n: { name: string }) => n.name),
  };
}

/**
 * Three replicas behind one Service and three reporters spread by it, one per replica, every
 * node in sync on every replica. Replicas are thawed (SIGCONT) before they are stopped.
 */
async function threeReplicasThreeNodes(netnsTag: string) {
  const dir = await mkdtemp(join(tmpdir(), `${netnsTag}-replicas-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const fake = await new FakeKubeApi().start();
  cleanups.push(() => fake.stop());
  const ports = [await freePort(), await freePort(), await freePort()];
  const replicas = ports.map((p, i) => startDashboard(fake, `ipmasq-dashboard-${i}`, p, dir));
  for (const r of replicas) cleanups.push(() => r.proc.child.kill("SIGCONT"));
  const service = await new ServiceProxy(ports).start();
  cleanups.push(() => service.stop());
  for (const r of replicas) await ready(r);
  const pool = netnsPool(netnsTag);
  cleanups.push(() => pool.cleanup());
  const nodes = ["a", "b", "c"].map((tag) => ({ tag, name: `node-${tag}`, netns: pool.add(tag) }));
  for (const n of nodes) {
    const proc = startReporter({
      node: n.name,
      netns: n.netns,
      dashboard: `ws://127.0.0.1:${service.port}${REPORTER_PATH}`,
      token: reporterToken(fake, n.name),
      stateDir: join(dir, "state", n.name),
      logFile: join(dir, `${n.name}.log`),
    });
    cleanups.push(() => proc.stop());
  }
  // Spread by the Service: one node per replica, each written by its holder.
  await until(() => nodes.every((n) => holder(fake, n.name)), 20_000, 100, "every node held");
  expect(new Set(nodes.map((n) => holder(fake, n.name))).size).toBe(3);
  for (const r of replicas)
    await until(async () => (await fleetOf(r)).inSync === 3, 20_000, 100, `${r.pod} in sync`);
  return { fake, ports, replicas, service, nodes };
}

describe("three active dashboard replicas", () => {
  it("save on one, resync from another, kill a third: reporters move, no rule changes", async () => {
    const { fake, replicas, service, nodes } = await threeReplicasThreeNodes("imd");

    // Save on replica 0: every node applies it.
    const [r0, r1, r2] = replicas as [Replica, Replica, Replica];
    // Waves run fleet-wide (one owner, the others follow): kube-replicas-rollout.test.ts.
    const put = await saveYaml(r0, "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n");
    expect(put.status).toBe(200);
    await until(
      () =>
        nodes.every((n) =>
          natRules(n.netns, "IP-MASQ-AGENT").some((l) => l.includes("100.64.0.0/10")),
        ),
      10_000,
      50,
      "the save applied on every node",
    );
    await until(
      async () => {
        const rollout = (await r0.api("/api/nodes")).body.summary.rollout;
        return rollout?.revision === put.body.revision && rollout.done === 3;
      },
      10_000,
      100,
      "replica 0 counts every node done",
    );

    // Resync from replica 1 of the node replica 2 holds.
    const far = nodes.find((n) => holder(fake, n.name) === r2.pod)!;
    await until(
      async () => (await r1.api(`/api/nodes/${far.name}`)).body.node?.heldBy?.replica === r2.pod,
      10_000,
      100,
      "r1 sees r2's node",
    );
    const resync = await r1.api(`/api/nodes/${far.name}/resync`, { method: "POST", body: {} });
    expect(resync.status).toBe(202);
    expect(resync.body).toMatchObject({ outcome: "requested", replica: r2.pod });
    await until(
      () =>
        fake.customObject("nodemasquerades", "", far.name)?.status?.resyncObserved ===
        resync.body.requestId,
      10_000,
      50,
      "the holder performed the resync",
    );

    // Kill replica 2: its reporter moves within 10 s; no rule changes anywhere.
    const before = nodes.map((n) => natSave(n.netns));
    r2.proc.child.kill("SIGKILL");
    service.remove(r2.port);
    const killedAt = Date.now();
    await until(
      () => [r0.pod, r1.pod].includes(holder(fake, far.name) ?? ""),
      10_000,
      50,
      "the reporter moved",
    );
    const movedMs = Date.now() - killedAt;
    expect(movedMs).toBeLessThan(10_000);
    for (const r of [r0, r1])
      await until(
        async () => {
          const f = await fleetOf(r);
          return f.total === 3 && f.inSync === 3;
        },
        10_000,
        100,
        `${r.pod} shows every node in sync`,
      );
    expect(nodes.map((n) => natSave(n.netns))).toEqual(before);
  }, 120_000);
});

describe("a replica frozen (SIGSTOP: no FIN, no RST, as when its node loses power)", () => {
  it("its reporters reach the others within 10 s; the other reporters stay; no rule changes", async () => {
    const { fake, ports, replicas, service, nodes } = await threeReplicasThreeNodes("imf");

    // The worst case: the replica the Service's next connection goes to, so the first
    // reconnect of its reporter lands on it again (it then races a second attempt).
    const frozen = replicas.find((r) => r.port === ports[service.routed.length % 3])!;
    const live = replicas.filter((r) => r !== frozen).map((r) => r.pod);
    const far = nodes.find((n) => holder(fake, n.name) === frozen.pod)!;
    const stay = nodes.filter((n) => n !== far).map((n) => [n.name, holder(fake, n.name)]);
    const before = nodes.map((n) => natSave(n.netns));
    // Its endpoint stays in the Service, as it does until Kubernetes marks the pod not ready.
    frozen.proc.child.kill("SIGSTOP");
    const frozenAt = Date.now();
    const routedBefore = service.routed.length;
    await until(() => live.includes(holder(fake, far.name) ?? ""), 15_000, 50, "moved");
    const movedMs = Date.now() - frozenAt;
    expect(movedMs).toBeLessThan(10_000);
    expect(service.routed.slice(routedBefore)).toEqual([frozen.port, expect.any(Number)]);
    // The healthy replicas' reporters never left them.
    expect(nodes.filter((n) => n !== far).map((n) => [n.name, holder(fake, n.name)])).toEqual(stay);
    for (const pod of live) {
      const r = replicas.find((x) => x.pod === pod)!;
      await until(async () => (await fleetOf(r)).inSync === 3, 10_000, 100, `${pod} in sync`);
    }
    expect(nodes.map((n) => natSave(n.netns))).toEqual(before);
  }, 120_000);
});
