import type { Rollout } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import type { FleetState } from "../fleet/fleet-state.js";
import { type NodeRecord, newRecord } from "../fleet/node.js";
import { type FleetViewSources, remoteOf, rolloutOf } from "./fleet-view.js";
import type { NodeMasquerade } from "./node-masquerade.js";

const cr = (name: string, replica: string, connected: boolean, applied = 7): NodeMasquerade => ({
  metadata: { name },
  status: {
    replica,
    connected,
    health: "in-sync",
    appliedRevision: applied,
    mode: "enforce",
    message: "",
    observedAt: "2026-01-01T00:00:00Z",
  },
});

/** What the singleton Lease holder writes for a node of a replica that died (ReplicaSync). */
const markedDead: NodeMasquerade = {
  metadata: { name: "n" },
  status: {
    ...cr("n", "dead", false).status!,
    health: "unknown",
    message: "replica dead stopped renewing its Lease at T; last known: in-sync",
  },
};

/** When the "dead" replica's Lease was last seen renewed: three hours after the objects' time. */
const RENEWED_AT = Date.parse("2026-01-01T03:00:00Z");

function sources(o: {
  local?: { name: string; connected: boolean }[];
  objects?: NodeMasquerade[];
  outcome?: Record<string, "pending" | "offline" | "done" | "failed">;
}): FleetViewSources {
  const nodes = new Map<string, NodeRecord>();
  for (const l of o.local ?? []) {
    const r = newRecord(helloFor(l.name));
    r.connected = l.connected;
    nodes.set(l.name, r);
  }
  const objects = new Map((o.objects ?? []).map((c) => [c.metadata.name, c]));
  const fleet = {
    nodes,
    rollout: { countedAs: (n: string) => ({ target: o.outcome?.[n] }) },
    knownRevisions: () => [],
  } as unknown as FleetState;
  return {
    fleet,
    objects: { get: (n) => objects.get(n), values: () => objects.values() },
    replica: "me",
    liveness: (r) =>
      r === "dead"
        ? {
            live: false,
            reason: `replica ${r} stopped renewing its Lease at T`,
            lastRenewSeenAt: RENEWED_AT,
          }
        : { live: true },
  };
}

describe("remoteOf: which view of a node is shown", () => {
  const cases = [
    {
      desc: "connected here: this replica's record",
      s: sources({ local: [{ name: "n", connected: true }], objects: [cr("n", "other", true)] }),
      want: undefined,
    },
    {
      desc: "offline here, held by another: its object",
      s: sources({ local: [{ name: "n", connected: false }], objects: [cr("n", "other", true)] }),
      want: "in-sync other",
    },
    {
      desc: "offline here, object says held here: this replica's record",
      s: sources({ local: [{ name: "n", connected: false }], objects: [cr("n", "me", true)] }),
      want: undefined,
    },
    {
      desc: "only an object, holder alive: its status",
      s: sources({ objects: [cr("n", "other", true)] }),
      want: "in-sync other",
    },
    {
      desc: "only an object, holder dead: unknown",
      s: sources({ objects: [cr("n", "dead", true)] }),
      want: "unknown dead",
    },
    {
      desc: "only an object, disconnected: offline",
      s: sources({ objects: [cr("n", "other", false)] }),
      want: "offline other",
    },
    {
      desc: "only an object the singleton holder wrote unknown (its holder died): unknown",
      s: sources({ objects: [markedDead] }),
      want: "unknown dead",
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const r = remoteOf(c.s, "n");
      expect(r && `${r.status} ${r.heldBy.replica}`).toBe(c.want);
    });

  it("a node written unknown for its dead holder says what the object says", () => {
    expect(remoteOf(sources({ objects: [markedDead] }), "n")?.summary).toBe(
      markedDead.status!.message,
    );
  });

  it("says why a node of a dead replica is unknown, with its last known state", () => {
    expect(remoteOf(sources({ objects: [cr("n", "dead", true)] }), "n")?.summary).toBe(
      "replica dead stopped renewing its Lease at T; last known: in-sync",
    );
  });
});

describe("rolloutOf: the rollout over every node", () => {
  const local: Rollout = {
    revision: 7,
    resourceVersion: "1",
    startedAt: 0,
    finishedAt: 5,
    total: 2,
    done: 1,
    pending: 1,
    offline: 1,
    failed: 0,
    late: { done: 0, pending: 0, failed: 0 },
  };
  it("counts nodes held elsewhere by their objects, instead of as this replica's offline targets", () => {
    const s = sources({
      local: [
        { name: "a", connected: true },
        { name: "b", connected: false },
      ],
      objects: [cr("b", "other", true, 7), cr("c", "other", true, 6)],
      outcome: { a: "done", b: "offline" },
    });
    expect(rolloutOf(s, local)).toMatchObject({
      total: 3,
      done: 2,
      pending: 1,
      offline: 0,
      finishedAt: null,
    });
  });
});

describe("remoteOf: a Windows node held elsewhere", () => {
  it("is windows by its backend (cni), not linux", () => {
    const win = cr("w", "other", true);
    win.status!.backend = "cni";
    expect(remoteOf(sources({ objects: [win] }), "w")?.os).toBe("windows");
    const linux = cr("l", "other", true);
    linux.status!.backend = "nf_tables";
    expect(remoteOf(sources({ objects: [linux] }), "l")?.os).toBe("linux");
  });
});

describe("a row held elsewhere: what its NodeMasquerade says, and what it cannot", () => {
  const at = "2026-01-01T00:00:00Z";
  const details = {
    observedAt: at,
    os: "linux" as const,
    kernel: "6.1.0-28-amd64",
    iptablesVersion: "1.8.9 (nf_tables)",
    reporterVersion: "0.1.0",
    critical: 2,
    warnings: 1,
  };
  const withStatus = (extra: Partial<NonNullable<NodeMasquerade["status"]>>) => {
    const c = cr("n", "other", true);
    c.status = { ...c.status!, health: "drifted", backend: "nf_tables", ...extra };
    return c;
  };
  const cases = [
    {
      desc: "details written with the status: the local row's facts",
      input: withStatus({ details }),
      want: {
        os: "linux",
        kernel: "6.1.0-28-amd64",
        iptablesVersion: "1.8.9 (nf_tables)",
        critical: 2,
        warnings: 1,
        notKnownHere: undefined,
      },
    },
    {
      desc: "no details (a previous-release holder): placeholders said to be unknown",
      input: withStatus({}),
      want: { kernel: "", critical: 0, notKnownHere: ["kernel", "iptablesVersion", "severity"] },
    },
    {
      desc: "details older than the status (patched since by a previous-release holder): not believed",
      input: withStatus({ details: { ...details, observedAt: "2025-12-31T00:00:00Z" } }),
      want: { kernel: "", critical: 0, notKnownHere: ["kernel", "iptablesVersion", "severity"] },
    },
    {
      desc: "a Windows node without details: its CNI backend says Windows",
      input: withStatus({ backend: "cni" }),
      want: { os: "windows", notKnownHere: ["kernel", "iptablesVersion", "severity"] },
    },
    {
      desc: "a Windows node with details",
      input: withStatus({ backend: "cni", details: { ...details, os: "windows" } }),
      want: { os: "windows", notKnownHere: undefined },
    },
    {
      desc: "no backend, older details saying Windows: Windows (a node's OS does not change)",
      input: withStatus({
        backend: undefined,
        details: { ...details, os: "windows", observedAt: "2025-12-31T00:00:00Z" },
      }),
      want: { os: "windows", notKnownHere: ["kernel", "iptablesVersion", "severity"] },
    },
    {
      desc: "nothing tells the OS (no details, no backend): said not known, not taken for Linux",
      input: withStatus({ backend: undefined }),
      want: { notKnownHere: ["os", "kernel", "iptablesVersion", "severity"] },
    },
    {
      desc: "a backend no release writes: the OS is not known",
      input: withStatus({ backend: "hns" }),
      want: { notKnownHere: ["os", "kernel", "iptablesVersion", "severity"] },
    },
    {
      desc: "counts and drift absent (judgement put off while applying): severity not known, not 0",
      input: withStatus({
        health: "applying",
        details: { ...details, critical: undefined, warnings: undefined },
      }),
      want: { kernel: "6.1.0-28-amd64", heldBy: { differences: null }, notKnownHere: ["severity"] },
    },
    {
      desc: "counts written null (the merge patch of a put-off judgement, as read back): not known",
      input: withStatus({
        health: "applying",
        drift: null,
        details: { ...details, critical: null, warnings: null },
      }),
      want: { heldBy: { differences: null }, notKnownHere: ["severity"] },
    },
    {
      desc: "an older replica's status (counts and drift present): its counts",
      input: withStatus({ details, drift: { count: 3, reasons: ["a", "b", "c"] } }),
      want: { critical: 2, warnings: 1, heldBy: { differences: 3 }, notKnownHere: undefined },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const row = remoteOf(sources({ objects: [input] }), "n")!;
      const { notKnownHere, ...rest } = want;
      expect(row).toMatchObject(rest);
      expect(row.notKnownHere?.fields).toEqual(notKnownHere);
    });
});

describe("a remote node not connected: why, and whether the replica named in its object is alive", () => {
  const cases = [
    {
      desc: "connected to a live replica: not disconnected",
      input: cr("n", "other", true),
      want: undefined,
    },
    {
      desc: "reporter left a live replica: that replica has its last record to open",
      input: cr("n", "other", false),
      want: { reason: "disconnected", holderLive: true },
    },
    {
      desc: "reporter left a replica since dead: none to open",
      input: cr("n", "dead", false),
      want: { reason: "disconnected", holderLive: false },
    },
    {
      desc: "holder stopped renewing while connected: none to open",
      input: cr("n", "dead", true),
      want: { reason: "holder-dead", holderLive: false },
    },
    {
      desc: "marked by the singleton for a dead holder: none to open",
      input: markedDead,
      want: { reason: "marked-dead", holderLive: false },
    },
    {
      desc: "names no replica: none to open",
      input: cr("n", "", false),
      want: { reason: "no-replica", holderLive: false },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () =>
      expect(remoteOf(sources({ objects: [input] }), "n")?.disconnected).toEqual(want),
    );
});

describe("how old a remote node's last known state is", () => {
  const cases = [
    {
      desc: "holder live: when its status last changed",
      input: cr("n", "other", true),
      want: Date.parse("2026-01-01T00:00:00Z"),
    },
    {
      desc: "holder stopped renewing: it vouched for the node until its last renewal seen here",
      input: cr("n", "dead", true),
      want: RENEWED_AT,
    },
    {
      desc: "reporter disconnected before: when the disconnect was written",
      input: cr("n", "dead", false),
      want: Date.parse("2026-01-01T00:00:00Z"),
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const row = remoteOf(sources({ objects: [input] }), "n")!;
      expect(row.lastSeenAt).toBe(want);
      // When it last sent its rules only its holder knows: never claimed here.
      expect(row.lastReportAt).toBeNull();
    });
});
