// Kubernetes Events through the real client-node against the test API server with the chart's
// RBAC: on the Node (where `kubectl describe node` finds them: namespace "default", involved
// object kind Node, uid = name, as kubelet writes them) and on the ConfigMap; repeats counted
// with a patch; the rollout-paused entry point; the API server down never blocks enforcement.
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { beforeEach, describe, expect, it } from "vitest";
import { kubeClients } from "../src/server/kube/client.js";
import { type EventRecorderOptions, KubeEventRecorder } from "../src/server/kube/event-recorder.js";
import { FleetEvents, nodeRef } from "../src/server/kube/fleet-events.js";
import { silentLogger } from "../src/server/log.js";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const k = kubeTestCluster();
let fake: FakeKubeApi;

beforeEach(async () => {
  fake = await k.cluster();
});

/** A recorder as the dashboard makes one, stopped after the test. */
function newRecorder(o: Partial<EventRecorderOptions> = {}): KubeEventRecorder {
  const recorder = new KubeEventRecorder({
    clients: kubeClients(fake.kubeConfig()),
    log: silentLogger(),
    component: "ipmasq-dashboard",
    instance: "test",
    ...o,
  });
  k.defer(() => recorder.close());
  return recorder;
}

const reasons = (kind: string, name: string) =>
  fake.events({ kind, name }).map((e) => `${e.type} ${e.reason}`);

describe("Kubernetes Events", () => {
  it("records Applied, Drifted, Healed on the Node and the ConfigMap, as kubectl describe finds them", async () => {
    const s = await k.start({ POD_NAME: "ipmasq-dashboard-0" });
    const node = await k.reporter(s, "node-a");
    await eventually(() => reasons("Node", "node-a").includes("Normal Applied"), 10_000, "Applied");

    node.handEdit((chain) => chain.filter((l) => !l.includes("10.0.0.0/8")));
    await eventually(
      () => reasons("Node", "node-a").includes("Warning Drifted"),
      10_000,
      "Drifted",
    );
    expect((await s.api("/api/nodes/node-a/resync", { method: "POST" })).status).toBe(202);
    await eventually(() => reasons("Node", "node-a").includes("Normal Healed"), 10_000, "Healed");
    // The ConfigMap's Events follow (its uid is read first).
    await eventually(
      () => reasons("ConfigMap", CM).includes("Normal Healed"),
      10_000,
      "Healed on the ConfigMap",
    );

    const drifted = fake
      .events({ kind: "Node", name: "node-a" })
      .find((e) => e.reason === "Drifted");
    expect(drifted).toMatchObject({
      metadata: { namespace: "default" },
      involvedObject: { kind: "Node", name: "node-a", uid: "node-a" },
      source: { component: "ipmasq-dashboard" },
      reportingComponent: "ipmasq-dashboard",
      reportingInstance: "ipmasq-dashboard-0",
      count: 1,
    });
    expect(drifted.message).toContain("10.0.0.0/8");
    const onCm = fake.events({ kind: "ConfigMap", name: CM });
    expect(onCm.map((e) => e.reason)).toEqual(expect.arrayContaining(["Drifted", "Healed"]));
    expect(onCm[0]).toMatchObject({
      metadata: { namespace: NS },
      involvedObject: { namespace: NS, uid: fake.configMap(NS, CM)!.metadata.uid },
    });
    expect(onCm.find((e) => e.reason === "Drifted").message).toMatch(/^node node-a: /);
    // Written as the dashboard's ServiceAccount, under the chart's RBAC.
    const writes = fake.requests.filter((r) => r.path.includes("/events"));
    expect(writes.every((r) => r.user === fake.dashboardUser && r.status === 201)).toBe(true);
  });

  it("records each failed apply as a Warning on the Node, and counts it in the metrics", async () => {
    const s = await k.start();
    const node = await k.reporter(s, "node-b");
    await eventually(() => reasons("Node", "node-b").includes("Normal Applied"), 10_000);
    node.failApplies = "iptables-restore: line 3 failed";
    for (const cidr of ["100.64.0.0/10", "198.18.0.0/15"]) {
      const cfg = (await s.api("/api/config")).body;
      const yaml = `nonMasqueradeCIDRs:\n  - 10.0.0.0/8\n  - ${cidr}\n`;
      const put = await s.api("/api/config", {
        method: "PUT",
        body: { yaml, resourceVersion: cfg.resourceVersion },
      });
      expect(put.status).toBe(200);
      await eventually(
        () =>
          fake
            .events({ kind: "Node", name: "node-b" })
            .some(
              (e) =>
                e.reason === "ApplyFailed" && e.message.includes(`revision ${put.body.revision}`),
            ),
        10_000,
        `ApplyFailed of revision ${put.body.revision}`,
      );
    }
    const failed = fake
      .events({ kind: "Node", name: "node-b" })
      .filter((e) => e.type === "Warning");
    // Two revisions: two messages, two Events.
    expect(failed.map((e) => e.message)).toEqual([
      expect.stringContaining("line 3 failed"),
      expect.stringContaining("line 3 failed"),
    ]);
    const metrics = await fetch(`${s.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/ipmasq_apply_failures_total\{trigger="desired"\} 2/);
    expect(metrics).toMatch(/ipmasq_kube_events_total\{result="created"\} \d+/);
  });

  it("counts a repeated event with a strategic merge patch, and creates it anew when it was deleted", async () => {
    const recorder = newRecorder();
    for (let i = 0; i < 3; i++) recorder.record(nodeRef("node-c"), "Warning", "Drifted", "same");
    await recorder.idle();
    const [one, ...rest] = fake.events({ kind: "Node", name: "node-c" });
    expect(rest).toEqual([]);
    expect(one).toMatchObject({ count: 3, message: "same" });
    expect(new Date(one.lastTimestamp) >= new Date(one.firstTimestamp)).toBe(true);
    expect(fake.count("PATCH", "/namespaces/default/events/")).toBe(2);
    // The worker stopped when the queue emptied; the next event starts it again.
    recorder.record(nodeRef("node-c"), "Normal", "Healed", "again");
    await recorder.idle();
    expect(fake.events({ kind: "Node", name: "node-c" }).map((e) => e.reason)).toEqual([
      "Drifted",
      "Healed",
    ]);
  });

  it("a flapping node's last word is not lost to the spam filter: it is recorded once the filter allows", async () => {
    const results: string[] = [];
    // 2 events of burst per object and type, one more each second.
    const recorder = newRecorder({
      correlator: { spamBurst: 2, spamQps: 1 },
      onResult: (r) => results.push(r),
    });
    for (let i = 0; i < 3; i++) {
      recorder.record(nodeRef("node-f"), "Warning", "Drifted", "10.0.0.0/8 missing");
      recorder.record(nodeRef("node-f"), "Normal", "Healed", "in sync again");
    }
    await recorder.idle();
    expect(results.filter((r) => r === "throttled")).toHaveLength(2);
    const latest = () =>
      fake
        .events({ kind: "Node", name: "node-f" })
        .sort((a, b) => Date.parse(a.lastTimestamp) - Date.parse(b.lastTimestamp))
        .at(-1);
    await eventually(() => latest()?.count === 3, 5_000, "the last Healed recorded");
    expect(latest()).toMatchObject({ reason: "Healed", count: 3 });
  });

  it("rollout paused (the signal the rollout code sends): a Warning on the ConfigMap and on the nodes that caused it", async () => {
    const recorder = newRecorder();
    const events = new FleetEvents(
      recorder,
      kubeClients(fake.kubeConfig()),
      { namespace: NS, name: CM },
      silentLogger(),
    );
    // The rollout code's pause hook sends this signal through FleetState's onSignal.
    events.signal({
      kind: "rollout-paused",
      rollout: { revision: 4, resourceVersion: "812" },
      reason: "canary failed",
      message: "node-d could not apply",
      nodes: ["node-d"],
    });
    await recorder.idle();
    const want =
      "rollout of revision 4 (resourceVersion 812) paused (canary failed): node-d could not apply";
    expect(fake.events({ kind: "ConfigMap", name: CM })).toEqual([
      expect.objectContaining({ type: "Warning", reason: "RolloutPaused", message: want }),
    ]);
    expect(fake.events({ kind: "Node", name: "node-d" })).toEqual([
      expect.objectContaining({ type: "Warning", reason: "RolloutPaused", message: want }),
    ]);
  });

  it("writes Events at most at the write rate after its burst (kubelet's eventRecordQPS/eventBurst), waiting rather than failing", async () => {
    const results: string[] = [];
    let waitedMs = 0;
    // Burst 5, then 20 requests a second: 25 Events on 25 Nodes (no aggregation, no spam filter).
    const recorder = newRecorder({
      writesPerSecond: 20,
      writeBurst: 5,
      onResult: (r) => results.push(r),
      onWait: (ms) => {
        waitedMs += ms;
      },
    });
    const start = Date.now();
    for (let i = 0; i < 25; i++)
      recorder.record(nodeRef(`node-r${i}`), "Normal", "Applied", "rules rewritten");
    expect(recorder.queued).toBe(24); // the first is being written
    await recorder.idle();
    expect(results).toEqual(Array(25).fill("created"));
    const at = fake.requests
      .filter((r) => r.method === "POST" && r.path.includes("/events"))
      .map((r) => r.at);
    expect(at).toHaveLength(25);
    // The 20 after the burst waited for a token each, 50 ms apart: the last comes 1 s after the
    // bucket started (unlimited, all 25 take a few ms). Measured from the first record(), not
    // from the first request's arrival: a slow first request lets tokens build up meanwhile, so
    // the last can come sooner after it (844 ms seen at load 7). 20 ms is timer rounding.
    expect(at[24]! - start).toBeGreaterThanOrEqual(980);
    expect(waitedMs).toBeGreaterThan(0);
  });

  it("keeps its queue bounded while the rate limit holds writes back: newer Events are dropped and counted", async () => {
    const results: string[] = [];
    const recorder = newRecorder({
      writesPerSecond: 2,
      writeBurst: 1,
      maxQueued: 10,
      onResult: (r) => results.push(r),
    });
    for (let i = 0; i < 30; i++)
      recorder.record(nodeRef(`node-q${i}`), "Normal", "Applied", "rules rewritten");
    // One being written, ten waiting, nineteen dropped at once.
    expect(recorder.queued).toBe(10);
    expect(results.filter((r) => r === "dropped")).toHaveLength(19);
    await recorder.close();
    expect(results.filter((r) => r === "created").length).toBeLessThanOrEqual(2);
  });

  it("never blocks enforcement: with the API server down, events are retried, then given up and counted", async () => {
    const results: string[] = [];
    const recorder = newRecorder({
      maxTries: 3,
      retryMs: 50,
      maxQueued: 2,
      onResult: (r) => results.push(r),
    });
    await fake.stop();
    for (let i = 0; i < 5; i++) recorder.record(nodeRef("node-e"), "Warning", "Drifted", `m${i}`);
    // record() only queues: the first is being written, two wait, the last two are dropped.
    expect(results).toEqual(["dropped", "dropped"]);
    await recorder.idle();
    expect(results).toEqual(["dropped", "dropped", "failed", "failed", "failed"]);
  });
});
