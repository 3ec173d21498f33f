// Revisions and authorship of the ip-masq-agent ConfigMap, read from (and written to) its own
// annotations so they survive every restart of every replica: a replica's memory or a history
// write that failed can never make a reporter step back.
//
// `ipmasq.dev/revision` is written with every save (in the same update as the config, so it
// is atomic with it), and stamped after an edit made outside the dashboard (kubectl edit keeps
// the old annotation; `config-sha256` no longer matching the text is how such an edit is
// recognised). The previous release wrote the same number as `ipmasq.dev/generation`: it is
// read when `ipmasq.dev/revision` is absent, and this release writes both, so a replica of the
// previous release still running during a rolling upgrade (or after a rollback) reads the number
// every write carries and never stamps a different one. Pure functions: the store does the I/O.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { sha256 } from "@masq/node-util";
import { type RolloutStrategy, rolloutStrategySchema } from "@masq/shared";
import type { ConfigRevision } from "./types.js";

export const CONFIG_KEY = "config";
const A = "ipmasq.dev/";
export const ANNOTATIONS = {
  author: `${A}author`,
  message: `${A}message`,
  updatedAt: `${A}updated-at`,
  sha: `${A}config-sha256`,
  revision: `${A}revision`,
  strategy: `${A}rollout-strategy`,
} as const;
/** The annotation the previous release wrote the revision to. */
export const LEGACY_REVISION_ANNOTATION = `${A}generation`;
/** The field manager of the dashboard's own writes (managedFields). */
export const FIELD_MANAGER = "ipmasq-dashboard";

export type RevisionMeta = Omit<ConfigRevision, "revision">;

/**
 * The annotations a write by the dashboard carries. `strategy`: how the save rolls out, written
 * in the same update as the text so every replica reads it with the revision (absent: the
 * default strategy; withAnnotations removes an earlier save's).
 */
export function annotationsFor(
  m: Pick<RevisionMeta, "author" | "message" | "text"> & {
    revision: number;
    updatedAt?: string;
    strategy?: RolloutStrategy;
  },
): Record<string, string> {
  return {
    ...(m.strategy ? { [ANNOTATIONS.strategy]: JSON.stringify(m.strategy) } : {}),
    [ANNOTATIONS.author]: m.author,
    [ANNOTATIONS.message]: m.message,
    [ANNOTATIONS.updatedAt]: m.updatedAt ?? new Date().toISOString(),
    [ANNOTATIONS.sha]: sha256(m.text),
    [ANNOTATIONS.revision]: String(m.revision),
    // For one release: what the previous release reads (see the header).
    [LEGACY_REVISION_ANNOTATION]: String(m.revision),
  };
}

/**
 * A ConfigMap's annotations with ours written over them. An earlier save's strategy goes when
 * ours names none: the sha is written anew, and would vouch for it.
 */
export function withAnnotations(
  existing: Record<string, string> | undefined,
  ours: Record<string, string>,
): Record<string, string> {
  const out = { ...existing, ...ours };
  if (!(ANNOTATIONS.strategy in ours)) delete out[ANNOTATIONS.strategy];
  return out;
}

/** Does the text still match what the dashboard (or its stamp) last wrote? */
export function ownedBy(cm: V1ConfigMap): boolean {
  const a = cm.metadata?.annotations ?? {};
  return a[ANNOTATIONS.sha] === sha256(cm.data?.[CONFIG_KEY] ?? "");
}

/** Who changed it: our annotations when they match the text, else the last other field manager. */
export function describe(cm: V1ConfigMap): RevisionMeta {
  const resourceVersion = cm.metadata?.resourceVersion ?? "";
  const text = cm.data?.[CONFIG_KEY] ?? "";
  const a = cm.metadata?.annotations ?? {};
  if (ownedBy(cm)) {
    const strategy = annotatedStrategy(a[ANNOTATIONS.strategy]);
    return {
      resourceVersion,
      text,
      author: a[ANNOTATIONS.author] ?? "unknown",
      message: a[ANNOTATIONS.message] ?? "",
      updatedAt: a[ANNOTATIONS.updatedAt] ?? new Date().toISOString(),
      ...(strategy ? { strategy } : {}),
    };
  }
  // managedFields times have second precision: on a tie, the other manager is the editor.
  const others = (cm.metadata?.managedFields ?? []).filter((f) => f.manager !== FIELD_MANAGER);
  const last = others.sort((x, y) => timeOf(x.time) - timeOf(y.time)).at(-1);
  return {
    resourceVersion,
    text,
    author: `${last?.manager ?? "unknown"} (outside the dashboard)`,
    message: "edited outside the dashboard",
    updatedAt: last?.time ? new Date(last.time).toISOString() : new Date().toISOString(),
  };
}

export interface RevisionInput {
  /** The revision the history recorded for this very resourceVersion, if any. */
  recorded: number | undefined;
  /** The ConfigMap's revision annotation, when its sha annotation matches the text. */
  annotated: number | undefined;
  /** The highest revision known (history, this process, annotations seen). */
  highest: number;
  /** Whether the text is the one the highest revision was given to. */
  sameTextAsHighest: boolean;
  /**
   * The highest merged revision handed out (this replica's, and every replica's as the history
   * ConfigMap's high-water mark says): a number this decides for an edit is above it. Not asked
   * of an annotation (a save of any replica, a stamp): that number was decided above it already.
   */
  merged?: number;
}

/**
 * The revision of a newly seen revision, never below one already handed out for other text:
 * what the history recorded for it; else its annotation when that is new, or is the highest
 * for the same text (a metadata-only change, a stamp); else, stamped: the highest again when
 * that went to this very text (another replica's stamp of it landed first, with a lower number:
 * ours is stamped over it, and that replica takes it as higher, so no number steps back), or the
 * next one above every revision and merged revision handed out.
 */
export function decideRevision(i: RevisionInput): { revision: number; stamp: boolean } {
  if (i.recorded !== undefined && i.recorded >= i.highest)
    return { revision: i.recorded, stamp: false };
  const a = i.annotated;
  if (a !== undefined && (a > i.highest || (a === i.highest && i.sameTextAsHighest)))
    return { revision: a, stamp: false };
  if (a !== undefined && i.sameTextAsHighest) return { revision: i.highest, stamp: true };
  return { revision: Math.max(i.highest, i.merged ?? 0) + 1, stamp: true };
}

/**
 * The revision annotation (or the previous release's `ipmasq.dev/generation`), when it is a
 * non-negative integer and the text is ours.
 */
export function annotatedRevision(cm: V1ConfigMap): number | undefined {
  if (!ownedBy(cm)) return undefined;
  const a = cm.metadata?.annotations;
  const raw = a?.[ANNOTATIONS.revision] ?? a?.[LEGACY_REVISION_ANNOTATION];
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

/**
 * The strategy annotation of a text that is ours (describe checks the sha), when it is a
 * strategy (JSON, rolloutStrategySchema); anything else is the default strategy's, as for an
 * edit made outside the dashboard.
 */
export function annotatedStrategy(raw: string | undefined): RolloutStrategy | undefined {
  if (raw === undefined || raw.length > 4096) return undefined;
  try {
    const r = rolloutStrategySchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

function timeOf(t: Date | string | undefined): number {
  return t ? new Date(t).getTime() : 0;
}
