// Which iptables backend the reporter writes and which it reads, kept current: detected at
// start, again every DETECT_INTERVAL_MS, and at once when iptables-nft starts warning that
// legacy tables exist (they did not when last detected). What it says is the backend's info().
import { release } from "node:os";
import { BACKEND_LABELS, type Family, type IptablesBackend } from "@masq/shared";
import type { ExecResult } from "../exec.js";
import type { Logger } from "../log.js";
import {
  type BackendChoice,
  type BackendProbe,
  chooseBackends,
  familyTools,
  IPTABLES_BACKENDS,
  probeBackend,
} from "./detect.js";
import { versionAtLeast } from "./iptables-version.js";
import type { Run } from "./list.js";
import { LEGACY_TABLES_WARNING } from "./read.js";
import type { BackendInfo } from "./types.js";

const MIN_RANDOM_FULLY = [1, 6, 2];
export const DETECT_INTERVAL_MS = 5 * 60_000;

export interface Detected {
  choice: BackendChoice;
  probes: Map<IptablesBackend, BackendProbe>;
  info: BackendInfo;
  at: number;
}

/** The programs of one backend for one family, as detected. */
export function toolsOf(d: Detected, backend: IptablesBackend, family: Family) {
  return familyTools(d.probes.get(backend)?.suffix ?? "", family);
}

function infoFrom(
  choice: BackendChoice,
  probes: Map<IptablesBackend, BackendProbe>,
  monitor: boolean,
): BackendInfo {
  const version = probes.get(choice.primary)?.version ?? "";
  const ruleBackends = IPTABLES_BACKENDS.filter((b) =>
    Object.values(probes.get(b)?.nat ?? {}).some((n) => (n?.postrouting ?? 0) > 0),
  );
  const both = ruleBackends.length > 1;
  return {
    backend: choice.primary,
    iptablesVersion: version,
    randomFullySupported: version !== "" && versionAtLeast(version, MIN_RANDOM_FULLY),
    kernel: release(),
    monitor: choice.primary === "nf_tables" && monitor,
    warnings: both
      ? [
          `nat rules in both ${BACKEND_LABELS.nf_tables} and ${BACKEND_LABELS.legacy}: both act on packets; both are read, ${BACKEND_LABELS[choice.primary]} is written (${choice.reason})`,
        ]
      : [],
    ruleBackends,
    backendReason: choice.reason,
  };
}

export interface DetectorOptions {
  families: readonly Family[];
  agentChain: string;
  /** `--iptables nft|legacy`. */
  forced?: IptablesBackend;
  /** Follow xtables-monitor when writing nf_tables. */
  monitor: boolean;
  intervalMs?: number;
  log: Logger;
}

export interface Detector {
  current(): Promise<Detected>;
  /** Makes the next current() detect again (what it found may be out of date). */
  refresh(): void;
  /** Looks at a command's stderr for the "legacy tables present" warning. */
  note(r: ExecResult): void;
}

export function createDetector(run: Run, o: DetectorOptions): Detector {
  let detected: Promise<Detected> | undefined;
  let last: Detected | undefined;
  let redetect = false;
  let warnedAt = Number.NEGATIVE_INFINITY;
  const interval = o.intervalMs ?? DETECT_INTERVAL_MS;

  async function detectNow(): Promise<Detected> {
    const list = await Promise.all(
      IPTABLES_BACKENDS.map((b) => probeBackend(run, b, o.families, o.agentChain)),
    );
    const probes = new Map(list.map((p) => [p.backend, p]));
    const choice = chooseBackends(list, o.families, o.forced);
    if (probes.get(choice.primary)?.suffix === undefined)
      throw new Error(`${BACKEND_LABELS[choice.primary]} is not installed on this node`);
    o.log.info(
      { primary: choice.primary, read: choice.read, reason: choice.reason },
      "iptables backends detected",
    );
    last = { choice, probes, info: infoFrom(choice, probes, o.monitor), at: Date.now() };
    return last;
  }

  return {
    current() {
      const force = redetect;
      redetect = false;
      const stale = (d: Detected) => force || Date.now() - d.at > interval;
      const next = (detected ?? Promise.reject(new Error("not detected yet"))).then(
        (d) => (stale(d) ? detectNow() : d),
        () => detectNow(),
      );
      detected = next;
      return next;
    },
    refresh() {
      redetect = true;
    },
    note(r) {
      // iptables-nft prints it whenever legacy tables exist: look again if there were none,
      // at most once per interval (the warning stays when legacy tables cannot be read).
      if (!LEGACY_TABLES_WARNING.test(r.stderr) || !last || redetect) return;
      if ((last.probes.get("legacy")?.tables ?? []).length > 0) return;
      if (Date.now() - warnedAt < interval) return;
      warnedAt = Date.now();
      redetect = true;
      o.log.warn(
        "iptables-legacy tables appeared next to nf_tables ones: detecting the backends again",
      );
    },
  };
}
