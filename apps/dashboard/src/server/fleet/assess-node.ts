// Judges a node's snapshot against the desired config with the shared core. Nodes of one
// fleet mostly report identical rules, so assessments are cached by (desired generation,
// flags, snapshot content): 5,000 identical nodes cost one assessment.
import {
  type AgentFlags,
  assessLinux,
  assessWindows,
  driftReport,
  type MasqConfig,
  type Snapshot,
  type WindowsSnapshot,
} from "@masq/shared";
import type { Desired } from "../config/config-service.js";
import type { NodeAssessment } from "./node.js";

/** Judges a Windows node's CNI OutBoundNAT exception lists. */
export type WindowsAssessor = (config: MasqConfig, snapshot: WindowsSnapshot) => NodeAssessment;

/** The shared assessWindows, in the shape of a node's assessment. */
export const assessWindowsNode: WindowsAssessor = (config, snapshot) => {
  const a = assessWindows(config, snapshot);
  return { report: a.report, desired: [], families: [], windowsDesired: a.desired };
};

/**
 * Cache key of what a node reported: exactly what assessLinux reads (per family snapshot its
 * backend, each chain's name and lines, what was not read and why, its read error), every
 * text length-prefixed so no content can forge another node's key. Cheaper than JSON: this
 * runs for every snapshot of every node.
 */
function snapshotKey(snapshot: Snapshot): string {
  let key = "";
  const part = (text: string) => {
    key += `${text.length}|${text}|`;
  };
  for (const f of snapshot.linux ?? []) {
    part(`${f.family}/${f.backend}/${f.chains.length}`);
    for (const c of f.chains) {
      part(c.name);
      part(c.lines === null ? "-" : `+${c.lines.join("\n")}`);
    }
    part((f.unread ?? []).join(" "));
    part(f.unreadNote ?? "");
    part(f.readError ?? "");
  }
  return key;
}

export class Assessor {
  /** desired+flags key → snapshot key → assessment. */
  private readonly cache = new Map<string, Map<string, NodeAssessment>>();
  private size = 0;
  /** Each reporter's flags object, serialized once. */
  private readonly flagKeys = new WeakMap<AgentFlags, string>();
  /** Each snapshot's key, built once (re-judging every node on a new config reuses it). */
  private readonly snapshotKeys = new WeakMap<Snapshot, string>();

  constructor(
    private readonly windows: WindowsAssessor = assessWindowsNode,
    private readonly maxEntries = 2000,
  ) {}

  assess(desired: Desired, flags: AgentFlags, snapshot: Snapshot): NodeAssessment {
    if (snapshot.windows && !snapshot.linux) return this.windows(desired.config, snapshot.windows);
    let flagsKey = this.flagKeys.get(flags);
    if (flagsKey === undefined) {
      flagsKey = JSON.stringify(flags);
      this.flagKeys.set(flags, flagsKey);
    }
    let snapKey = this.snapshotKeys.get(snapshot);
    if (snapKey === undefined) {
      snapKey = snapshotKey(snapshot);
      this.snapshotKeys.set(snapshot, snapKey);
    }
    const outerKey = `${desired.generation}|${desired.revision}|${flagsKey}`;
    let inner = this.cache.get(outerKey);
    const hit = inner?.get(snapKey);
    if (hit) return hit;
    const result = assessOnce(desired.config, flags, snapshot);
    if (!inner) {
      inner = new Map();
      this.cache.set(outerKey, inner);
    }
    inner.set(snapKey, result);
    if (++this.size > this.maxEntries) this.evictOldest();
    return result;
  }

  /** Drops the oldest desired/flags group: entries of superseded configs age out first. */
  private evictOldest(): void {
    const [key, inner] = this.cache.entries().next().value as [string, Map<string, NodeAssessment>];
    if (this.cache.size > 1) {
      this.cache.delete(key);
      this.size -= inner.size;
      return;
    }
    inner.delete(inner.keys().next().value as string);
    this.size--;
  }
}

function assessOnce(config: MasqConfig, flags: AgentFlags, snapshot: Snapshot): NodeAssessment {
  try {
    const a = assessLinux(config, flags, snapshot.linux ?? []);
    return {
      report: a.report,
      desired: a.families.map((f) => ({
        family: f.desired.family,
        lines: f.desired.rules.map((r) => r.line),
      })),
      families: a.families,
    };
  } catch (e) {
    // e.g. a reporter's --to-ports flag that does not parse: the node cannot be judged.
    return {
      report: driftReport([]),
      desired: [],
      families: [],
      unknown: { reason: `cannot judge this node: ${(e as Error).message}`, error: true },
    };
  }
}
