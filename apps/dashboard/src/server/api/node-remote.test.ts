import { describe, expect, it } from "vitest";
import type { RemoteSummary } from "../replicas/fleet-view.js";
import { remoteNodeDetail } from "./node-remote.js";

/** A node as another replica's NodeMasquerade shows it (fleet-view.ts summaryOfObject). */
function held(
  replica: string,
  connected: boolean,
  summary: string,
  disconnected?: RemoteSummary["disconnected"],
): RemoteSummary {
  return {
    ...(disconnected ? { disconnected } : {}),
    name: "n",
    os: "linux",
    mode: "enforce",
    status: connected ? "in-sync" : "offline",
    summary,
    appliedRevision: 7,
    backend: "iptables",
    kernel: "",
    iptablesVersion: "",
    critical: 0,
    warnings: 0,
    connected,
    liveness: connected ? "live" : "offline",
    lastSeenAt: 0,
    lastReportAt: null,
    heldBy: { replica, differences: 0, desiredRevision: 7 },
  } as RemoteSummary;
}

describe("remoteNodeDetail: disconnected from a replica that is alive", () => {
  const d = remoteNodeDetail(
    held("dash-a", false, "reporter disconnected from dash-a (last known: in-sync)", {
      reason: "disconnected",
      holderLive: true,
    }),
    0,
    "ns",
  );
  it("offers that replica, for its last known rules and history", () => {
    expect(d.heldElsewhere).toEqual({
      replica: "dash-a",
      portForward: "kubectl port-forward -n ns pod/dash-a 8080:http",
      lastHolder: true,
    });
    expect(d.viewUnavailable).toMatch(/connected to no replica now .*held it last/);
  });
  it("claims no live connection", () => {
    expect(d.heal).toEqual({
      kind: "unknown",
      reason: expect.not.stringMatching(/connected to replica/),
    });
    expect(d.viewUnavailable).not.toMatch(/held by replica|holding it/);
  });
});

describe("remoteNodeDetail: the way to the holder only when it has the node live", () => {
  const cases: { desc: string; input: RemoteSummary; want: string | null }[] = [
    {
      desc: "connected to a live replica: its port-forward",
      input: held("dash-a", true, ""),
      want: "kubectl port-forward -n ns pod/dash-a 8080:http",
    },
    {
      desc: "disconnected from a holder since dead: no replica has it",
      input: held("dash-a", false, "reporter disconnected from dash-a (last known: in-sync)", {
        reason: "disconnected",
        holderLive: false,
      }),
      want: null,
    },
    {
      desc: "its holder died: no pod to forward to",
      input: held("dead", false, "replica dead stopped renewing its Lease at T", {
        reason: "holder-dead",
        holderLive: false,
      }),
      want: null,
    },
    {
      desc: "names no replica: not a pod named ''",
      input: held("", false, "its NodeMasquerade names no replica; last known: in-sync", {
        reason: "no-replica",
        holderLive: false,
      }),
      want: null,
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const d = remoteNodeDetail(input, 0, "ns");
      expect(d.heldElsewhere?.portForward).toBe(want);
      if (want === null) {
        // Nothing here says its reporter is connected somewhere it is not.
        expect(d.heal).toEqual({
          kind: "unknown",
          reason: expect.not.stringMatching(/connected to replica/),
        });
        expect(d.viewUnavailable).not.toMatch(/port-forward|holding it shows them/);
        expect(d.viewUnavailable).toContain(input.summary);
      }
    });
});
