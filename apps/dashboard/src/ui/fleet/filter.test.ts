import type { NodeRolloutPlace, NodeStatus, NodeSummary, RolloutNodeProgress } from "@masq/shared";
import { describe, expect, it } from "vitest";
import {
  describeFilter,
  type FleetFilter,
  type SortKey,
  selectRows,
  worstSeverity,
} from "./filter";
import { STATUS_LABEL, shortSummary, statusLabel } from "./status";

function n(
  name: string,
  status: NodeStatus = "in-sync",
  over: Partial<NodeSummary> = {},
): NodeSummary {
  return {
    name,
    os: "linux",
    mode: "enforce",
    status,
    summary: "",
    connected: status !== "offline",
    liveness: status === "offline" ? "offline" : "live",
    lastSeenAt: 1,
    lastReportAt: 1,
    appliedRevision: 1,
    backend: "nf_tables",
    kernel: "",
    iptablesVersion: "",
    critical: 0,
    warnings: 0,
    ...over,
  };
}

function place(wave: number, progress: RolloutNodeProgress): NodeRolloutPlace {
  const released = progress !== "waiting";
  return {
    revision: 2,
    wave,
    waveName: wave === 0 ? "canary" : `wave ${wave}`,
    released,
    aborted: false,
    desiredRevision: released ? 2 : 1,
    progress,
  };
}

const nodes = new Map(
  [
    // "jump missing": nothing is masqueraded by the agent.
    n("alpha", "drifted", { critical: 1, summary: "jump missing" }),
    n("beta", "in-sync", { rollout: place(1, "waiting") }),
    n("delta", "drifted", {
      warnings: 1,
      summary: "duplicate jump",
      rollout: place(0, "applying"),
    }),
    n("gamma", "error"),
    n("hung", "in-sync", { liveness: "silent", lastSeenAt: 50 }),
    n("worker-alpha", "offline", { lastSeenAt: 20, critical: 2 }),
    n("worker-old", "offline", { lastSeenAt: 10 }),
  ].map((x) => [x.name, x]),
);
const names = [...nodes.keys()].sort();
const all: FleetFilter = { status: "all", severity: "all", q: "" };

describe("selectRows", () => {
  const cases: {
    desc: string;
    input: { filter?: Partial<FleetFilter>; sort?: SortKey };
    want: string[];
  }[] = [
    {
      desc: "filters by status",
      input: { filter: { status: "drifted" } },
      want: ["alpha", "delta"],
    },
    {
      desc: "searches names case-insensitively",
      input: { filter: { q: " ALPHA " } },
      want: ["alpha", "worker-alpha"],
    },
    {
      desc: "combines status and search",
      input: { filter: { status: "offline", q: "alpha" } },
      want: ["worker-alpha"],
    },
    {
      desc: "critical: nodes with a critical difference (offline ones as last known)",
      input: { filter: { severity: "critical" } },
      want: ["alpha", "worker-alpha"],
    },
    {
      desc: "warning: nodes whose worst difference is a warning",
      input: { filter: { severity: "warning" } },
      want: ["delta"],
    },
    {
      desc: "sorts by urgency, ties by name",
      input: { sort: "status" },
      want: ["gamma", "alpha", "delta", "worker-alpha", "worker-old", "beta", "hung"],
    },
    {
      desc: "sorts by severity: most critical first, then warnings",
      input: { sort: "severity" },
      want: ["worker-alpha", "alpha", "delta", "beta", "gamma", "hung", "worker-old"],
    },
    {
      desc: "sorts by revision: rollout waves first (canary first), then oldest applied",
      input: { sort: "rollout" },
      want: ["delta", "beta", "alpha", "gamma", "hung", "worker-alpha", "worker-old"],
    },
    {
      desc: "filters by rollout wave",
      input: { filter: { rollout: "wave 1" } },
      want: ["beta"],
    },
    {
      desc: "filters by rollout progress",
      input: { filter: { rollout: "applying" } },
      want: ["delta"],
    },
    {
      desc: "sorts by reporter: hung first, then offline longest gone, then live",
      input: { sort: "reporter" },
      want: ["hung", "worker-old", "worker-alpha", "alpha", "beta", "delta", "gamma"],
    },
  ];
  for (const c of cases)
    it(c.desc, () =>
      expect(
        selectRows(nodes, names, { ...all, ...c.input.filter }, c.input.sort).map((x) => x.name),
      ).toEqual(c.want),
    );

  it("ignores names the map does not have", () => {
    expect(selectRows(nodes, [...names, "ghost"], all)).toHaveLength(7);
  });

  it("a node's severity is its worst difference", () => {
    expect(worstSeverity({ critical: 1, warnings: 3 })).toBe("critical");
    expect(worstSeverity({ critical: 0, warnings: 3 })).toBe("warning");
    expect(worstSeverity({ critical: 0, warnings: 0 })).toBe("none");
  });
});

describe("status labels", () => {
  it("are exactly what operators read", () => {
    expect(Object.values(STATUS_LABEL)).toEqual([
      "In sync",
      "Drifted",
      "Applying",
      "Error",
      "Unknown",
      "Offline",
    ]);
    expect(statusLabel("no-such-status")).toBe("no-such-status");
  });
  it("describe the filter", () => {
    expect(describeFilter({ status: "drifted", severity: "critical", q: "a" }, statusLabel)).toBe(
      'status Drifted and critical differences and name containing "a"',
    );
    expect(describeFilter(all, statusLabel)).toBe("");
  });
});

describe("shortSummary", () => {
  it("does not repeat the status", () => {
    expect(shortSummary({ status: "in-sync", summary: "in sync" })).toBe("");
    expect(shortSummary({ status: "in-sync", summary: "in sync (cosmetic differences)" })).toBe(
      "cosmetic differences only",
    );
    expect(shortSummary({ status: "drifted", summary: "missing 10.0.0.0/8" })).toBe(
      "missing 10.0.0.0/8",
    );
  });
});
