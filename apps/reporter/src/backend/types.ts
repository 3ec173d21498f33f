// The node-facing side of the reporter: read the two nat chains, apply a config atomically,
// and notice changes. Implemented by real iptables and by an in-memory simulation.
import type { AgentFlags, ApplyTrigger, FamilySnapshot, MasqConfig } from "@masq/shared";

export type BackendKind = "nf_tables" | "legacy" | "memory";

export interface BackendInfo {
  backend: BackendKind;
  /** e.g. "v1.8.9". */
  iptablesVersion: string;
  /** iptables ≥ 1.6.2 (as upstream checks): `--random-fully` is written only when true. */
  randomFullySupported: boolean;
  kernel: string;
  /** Changes are followed with xtables-monitor (otherwise only polled). */
  monitor: boolean;
  /** Things an operator should know, e.g. legacy tables next to nf_tables ones. */
  warnings: string[];
}

export interface ApplyOutcome {
  ok: boolean;
  /** Whether anything was written (false when the node already had exactly these rules). */
  changed: boolean;
  error?: string;
  durationMs: number;
  /** Verification failed and the previous rules were restored. */
  rolledBack: boolean;
  /** What the node has after the apply (or after the rollback); empty when unreadable. */
  snapshots: FamilySnapshot[];
}

/** Why a watcher asks for a re-read. */
export type ChangeSource = "event" | "poll" | "monitor-restart";

export interface Watch {
  close(): void;
}

export interface Backend {
  /** Flags as they take effect on this node (`randomFully` only when supported). */
  effectiveFlags(): Promise<AgentFlags>;
  info(): Promise<BackendInfo>;
  /** One snapshot per managed family (IPv4, plus IPv6 when enabled). */
  read(): Promise<FamilySnapshot[]>;
  /** Validates, writes atomically, verifies by reading back, rolls back on mismatch. */
  apply(config: MasqConfig, trigger: ApplyTrigger): Promise<ApplyOutcome>;
  /** Calls onChange when the chains may have changed (events, fallback poll). */
  watch(onChange: (source: ChangeSource) => void): Watch;
}
