// The reporter's protocol messages built from its state: the hello sent on every connect and
// the snapshot of one read.
import {
  type AgentFlags,
  type Hello,
  type Mode,
  type NodeOs,
  PROTOCOL_VERSION,
  type ResyncSchedule,
  type Snapshot,
} from "@masq/shared";
import {
  type BackendInfo,
  isNftObserved,
  isWindowsObserved,
  type Observed,
} from "../backend/types.js";
import { REPORTER_VERSION } from "../version.js";

export interface HelloInput {
  nodeName: string;
  os: NodeOs;
  mode: Mode;
  /** Undefined before the backend answered (the fields then say nothing). */
  info: BackendInfo | undefined;
  flags: AgentFlags;
  appliedRevision: number | null;
}

export function helloMessage(h: HelloInput): Hello {
  const windows = h.os === "windows";
  const info = h.info;
  return {
    type: "hello",
    v: PROTOCOL_VERSION,
    node: h.nodeName,
    os: h.os,
    kernel: info?.kernel ?? "",
    iptablesVersion: info?.iptablesVersion ?? "",
    backend: info?.backend ?? (windows ? "cni" : "nf_tables"),
    ...(info?.ruleBackends ? { ruleBackends: info.ruleBackends } : {}),
    randomFullySupported: info?.randomFullySupported ?? false,
    mode: h.mode,
    flags: h.flags,
    reporterVersion: REPORTER_VERSION,
    appliedRevision: h.appliedRevision,
  };
}

export function snapshotMessage(
  seq: number,
  observed: Observed,
  enforcer: { appliedRevision(): number | null; schedule(): ResyncSchedule },
): Snapshot {
  return {
    type: "snapshot",
    v: PROTOCOL_VERSION,
    seq,
    takenAt: Date.now(),
    ...observedFields(observed),
    appliedRevision: enforcer.appliedRevision(),
    schedule: enforcer.schedule(),
  };
}

/** Where a read goes in a snapshot message (a native nftables node sends both parts). */
function observedFields(o: Observed): Pick<Snapshot, "linux" | "windows" | "nftables"> {
  if (isWindowsObserved(o)) return { windows: o };
  if (isNftObserved(o)) return { nftables: o.nftables, linux: o.linux };
  return { linux: o };
}
