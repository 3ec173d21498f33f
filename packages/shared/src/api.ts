// Wire types of the dashboard HTTP API (docs/api.md), shared by the server that builds them
// and the UI that reads them.
import type { ConfigDiff } from "./config-diff.js";

export const NODE_STATUSES = ["in-sync", "drifted", "applying", "error", "offline"] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export type Role = "editor" | "viewer";

export interface NodeSummary {
  name: string;
  os: "linux" | "windows";
  mode: "enforce" | "observe";
  status: NodeStatus;
  /** What differs, in a few words. */
  summary: string;
  connected: boolean;
  lastSeen: number | null;
  appliedGeneration: number | null;
  backend: string;
  kernel: string;
  iptablesVersion: string;
  critical: number;
  warnings: number;
}

export interface NodeEvent {
  time: number;
  kind: string;
  message: string;
}

export interface Rollout {
  generation: number;
  revision: string;
  startedAt: number;
  finishedAt: number | null;
  total: number;
  done: number;
  pending: number;
  failed: number;
}

export interface FleetSummary {
  total: number;
  byStatus: Partial<Record<NodeStatus, number>>;
  revision: string;
  generation: number | null;
  rollout: Rollout | null;
}

export interface DestinationImpact {
  cidr: string;
  change: "no-longer-masqueraded" | "now-masqueraded";
  nodes: number;
}

export interface Impact {
  nodes: number;
  destinations: DestinationImpact[];
}

export type { ConfigDiff };
