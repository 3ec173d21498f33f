import { describe, expect, it } from "vitest";
import type { NodeStatus, NodeSummary } from "../api/types";
import { describeFilter, selectRows } from "./filter";
import { STATUS_LABEL, shortSummary, statusLabel } from "./status";

function n(name: string, status: NodeStatus = "in-sync", lastSeen: number | null = 1): NodeSummary {
  return {
    name,
    os: "linux",
    mode: "enforce",
    status,
    summary: "",
    connected: true,
    lastSeen,
    appliedGeneration: 1,
    backend: "nf_tables",
    kernel: "",
    iptablesVersion: "",
    critical: 0,
    warnings: 0,
  };
}

const nodes = new Map(
  [n("alpha", "drifted"), n("beta"), n("gamma", "error"), n("worker-alpha", "offline", null)].map(
    (x) => [x.name, x],
  ),
);
const names = [...nodes.keys()].sort();

describe("selectRows", () => {
  it("filters by status", () => {
    expect(selectRows(nodes, names, { status: "drifted", q: "" }).map((x) => x.name)).toEqual([
      "alpha",
    ]);
    expect(selectRows(nodes, names, { status: "all", q: "" })).toHaveLength(4);
  });
  it("searches names case-insensitively", () => {
    expect(selectRows(nodes, names, { status: "all", q: " ALPHA " }).map((x) => x.name)).toEqual([
      "alpha",
      "worker-alpha",
    ]);
    expect(selectRows(nodes, names, { status: "offline", q: "alpha" }).map((x) => x.name)).toEqual([
      "worker-alpha",
    ]);
  });
  it("sorts by urgency, ties by name", () => {
    expect(selectRows(nodes, names, { status: "all", q: "" }, "status").map((x) => x.name)).toEqual(
      ["gamma", "alpha", "worker-alpha", "beta"],
    );
  });
  it("sorts never-seen nodes first by last seen", () => {
    expect(selectRows(nodes, names, { status: "all", q: "" }, "lastSeen")[0]?.name).toBe(
      "worker-alpha",
    );
  });
  it("ignores names the map does not have", () => {
    expect(selectRows(nodes, [...names, "ghost"], { status: "all", q: "" })).toHaveLength(4);
  });
});

describe("status labels", () => {
  it("are exactly what operators read", () => {
    expect(Object.values(STATUS_LABEL)).toEqual([
      "In sync",
      "Drifted",
      "Applying",
      "Error",
      "Offline",
    ]);
    expect(statusLabel("unknown")).toBe("unknown");
  });
  it("describe the filter", () => {
    expect(describeFilter({ status: "drifted", q: "a" }, statusLabel)).toBe(
      'status Drifted and name containing "a"',
    );
    expect(describeFilter({ status: "all", q: "" }, statusLabel)).toBe("");
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
