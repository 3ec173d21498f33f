// The node-facing side of the reporter: read what the node has, apply a config atomically, and
// notice changes. Two kinds of node:
//   - Linux (`LinuxBackend`): the nat POSTROUTING path, one snapshot per family and iptables
//     backend holding rules (real iptables, or the in-memory simulation);
//   - Windows (`WindowsBackend`, `os: "windows"`): the OutBoundNAT ExceptionList(s) of one CNI
//     config file, one snapshot of that file.
// The agent and the enforcer take either (`Backend`) and tell them apart by `os`.
import type {
  AgentFlags,
  ApplyTrigger,
  BackendKind,
  FamilySnapshot,
  IptablesBackend,
  MasqConfig,
  NftSnapshot,
  WindowsSnapshot,
} from "@masq/shared";

export interface BackendInfo {
  backend: BackendKind;
  /** e.g. "v1.8.9"; "nftables v1.0.6" on the nftables backend; "" on Windows. */
  iptablesVersion: string;
  /** iptables ≥ 1.6.2 (as upstream checks): `--random-fully` is written only when true. */
  randomFullySupported: boolean;
  kernel: string;
  /** Changes are followed as they happen (xtables-monitor, or fs.watch on Windows). */
  monitor: boolean;
  /** Things an operator should know, e.g. nat rules in both iptables backends. */
  warnings: string[];
  /** Linux: the iptables backends whose nat POSTROUTING holds rules. */
  ruleBackends?: IptablesBackend[];
  /** Linux: why `backend` is the one written to (as iptables-wrappers decides, or the flag). */
  backendReason?: string;
}

/**
 * A native nftables node: the nat postrouting picture as nft lists it, and the iptables family
 * snapshots of the same node (empty without iptables): an iptables chain beside the agent's table
 * (upstream's, or one being migrated from) acts on the same packets.
 */
export interface NftObserved {
  nftables: NftSnapshot;
  linux: FamilySnapshot[];
}

/** What one read of a node returns: Linux family snapshots, nftables, or the Windows CNI snapshot. */
export type Observed = FamilySnapshot[] | NftObserved | WindowsSnapshot;

export function isNftObserved(o: Observed): o is NftObserved {
  return !Array.isArray(o) && "nftables" in o;
}

export function isWindowsObserved(o: Observed): o is WindowsSnapshot {
  return !Array.isArray(o) && !("nftables" in o);
}

/** The read (or part of it) failed: nothing may be judged or written blind. */
export function observedReadFailed(o: Observed): boolean {
  if (isWindowsObserved(o)) return o.readError !== undefined;
  if (isNftObserved(o))
    return o.nftables.readError !== undefined || o.linux.some((s) => s.readError);
  return o.some((s) => s.readError);
}

export interface ApplyOutcome<S = FamilySnapshot[]> {
  ok: boolean;
  /** Whether anything was written (false when the node already had exactly this). */
  changed: boolean;
  error?: string;
  durationMs: number;
  /** Verification failed and the previous rules (or file) were restored. */
  rolledBack: boolean;
  /**
   * What the node has after the apply (or after the rollback). Linux: one per family, empty
   * when unreadable. Windows: the file as read back, undefined when it was not read.
   */
  snapshots: S;
}

export interface WindowsApplyOutcome extends ApplyOutcome<WindowsSnapshot | undefined> {
  /** Where the previous content was saved (only when the file was written). */
  backupPath?: string;
}

/** Why a watcher asks for a re-read. */
export type ChangeSource = "event" | "poll" | "monitor-restart";

export interface Watch {
  close(): void;
}

interface BackendCommon {
  /** Flags as they take effect on this node (`randomFully` only when supported). */
  effectiveFlags(): Promise<AgentFlags>;
  info(): Promise<BackendInfo>;
  /** Calls onChange when the node may have changed (events, fallback poll). */
  watch(onChange: (source: ChangeSource) => void): Watch;
}

export interface LinuxBackend extends BackendCommon {
  /** Absent or "linux". */
  readonly os?: "linux";
  /**
   * Per managed family (IPv4, plus IPv6 when enabled) one snapshot of the backend written to,
   * then one of each other backend holding nat rules for that family.
   */
  read(): Promise<FamilySnapshot[]>;
  /** Validates, writes atomically, verifies by reading back, rolls back on mismatch. */
  apply(config: MasqConfig, trigger: ApplyTrigger): Promise<ApplyOutcome>;
}

export interface WindowsBackend extends BackendCommon {
  readonly os: "windows";
  /** The CNI config file's exception lists; never throws (problems go to `readError`). */
  read(): Promise<WindowsSnapshot>;
  /** Validates, rewrites only the lists atomically (backup kept), verifies, restores on mismatch. */
  apply(config: MasqConfig, trigger: ApplyTrigger): Promise<WindowsApplyOutcome>;
}

/** The agent's own nftables table (`--backend nftables`); also reads the node's iptables. */
export interface NftablesBackend extends BackendCommon {
  readonly os?: "linux";
  readonly kind: "nftables";
  read(): Promise<NftObserved>;
  /** One `nft -f` transaction, verified by reading back, the previous table restored on mismatch. */
  apply(config: MasqConfig, trigger: ApplyTrigger): Promise<ApplyOutcome<NftObserved | undefined>>;
}

export type Backend = LinuxBackend | NftablesBackend | WindowsBackend;

export function isWindowsBackend(b: Backend): b is WindowsBackend {
  return b.os === "windows";
}
