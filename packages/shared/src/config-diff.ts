// What changed between two configs: CIDRs compared by their canonical block, other keys by
// value. The dashboard's history, dry run and editor all describe changes with this.
import { parseCidr } from "./cidr.js";
import { defaultConfig, type MasqConfig } from "./config.js";

export type ScalarKey = Exclude<keyof MasqConfig, "nonMasqueradeCIDRs" | "masqueradeCIDRs">;
export const SCALAR_KEYS: readonly ScalarKey[] = [
  "masqLinkLocal",
  "masqLinkLocalIPv6",
  "cidrLimit",
  "resyncInterval",
];

export interface ScalarChange {
  key: ScalarKey;
  from: MasqConfig[ScalarKey];
  to: MasqConfig[ScalarKey];
}

export interface ConfigDiff {
  /** CIDRs (as written in the newer config) that are new. */
  added: string[];
  /** CIDRs (as written in the older config) that are gone. */
  removed: string[];
  /** Other keys whose value changed, plus "nonMasqueradeCIDRs (order)" for reorders/respellings. */
  changed: string[];
  scalars: ScalarChange[];
  /** masqueradeCIDRs (as written in the newer config) that are new; only when there are any. */
  exceptionsAdded?: string[];
  /** masqueradeCIDRs (as written in the older config) that are gone; only when there are any. */
  exceptionsRemoved?: string[];
}

/** A CIDR's identity for comparisons: canonical when parsable, the trimmed text otherwise. */
export function cidrKey(text: string): string {
  const p = parseCidr(text.trim());
  return p.ok ? p.cidr.canonical : text.trim();
}

function onlyIn(xs: readonly string[], other: ReadonlySet<string>): string[] {
  const seen = new Set<string>();
  return xs.filter((c) => {
    const k = cidrKey(c);
    if (other.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `before` null means "nothing before" (every CIDR of `after` is added). */
export function diffConfigs(before: MasqConfig | null, after: MasqConfig | null): ConfigDiff {
  const a = before?.nonMasqueradeCIDRs ?? [];
  const b = after?.nonMasqueradeCIDRs ?? [];
  const added = onlyIn(b, new Set(a.map(cidrKey)));
  const removed = onlyIn(a, new Set(b.map(cidrKey)));
  const scalars: ScalarChange[] =
    before && after
      ? SCALAR_KEYS.filter((k) => before[k] !== after[k]).map((k) => ({
          key: k,
          from: before[k],
          to: after[k],
        }))
      : [];
  const reordered =
    before !== null &&
    after !== null &&
    added.length === 0 &&
    removed.length === 0 &&
    a.join("\n") !== b.join("\n");
  const ea = before?.masqueradeCIDRs ?? [];
  const eb = after?.masqueradeCIDRs ?? [];
  const exceptionsAdded = onlyIn(eb, new Set(ea.map(cidrKey)));
  const exceptionsRemoved = onlyIn(ea, new Set(eb.map(cidrKey)));
  return {
    added,
    removed,
    // Only when used, so diffs of configs without the key keep upstream's shape.
    ...(exceptionsAdded.length > 0 ? { exceptionsAdded } : {}),
    ...(exceptionsRemoved.length > 0 ? { exceptionsRemoved } : {}),
    changed: [...scalars.map((s) => s.key), ...(reordered ? ["nonMasqueradeCIDRs (order)"] : [])],
    scalars,
  };
}

export function isEmptyDiff(d: ConfigDiff): boolean {
  return (
    d.added.length === 0 &&
    d.removed.length === 0 &&
    d.changed.length === 0 &&
    (d.exceptionsAdded ?? []).length === 0 &&
    (d.exceptionsRemoved ?? []).length === 0
  );
}

/**
 * A config's identity as text: equal for two configs exactly when configsEqual says they are the
 * same (both lists in order, every scalar). Digested, it names a config where a revision number
 * cannot (merged revisions are numbered by each process).
 */
export function configKey(c: MasqConfig): string {
  return JSON.stringify([
    c.nonMasqueradeCIDRs,
    c.masqueradeCIDRs ?? [],
    SCALAR_KEYS.map((k) => c[k] ?? null),
  ]);
}

/** The same config: both lists in the same order (order is what iptables applies) and every scalar. */
export function configsEqual(a: MasqConfig, b: MasqConfig): boolean {
  return (
    a.nonMasqueradeCIDRs.join("\n") === b.nonMasqueradeCIDRs.join("\n") &&
    (a.masqueradeCIDRs ?? []).join("\n") === (b.masqueradeCIDRs ?? []).join("\n") &&
    SCALAR_KEYS.every((k) => a[k] === b[k])
  );
}

/** A config as its text sets it: the parse, and the keys the text gives (ConfigResult `keys`). */
export interface SetConfig {
  config: MasqConfig;
  keys: readonly string[];
}

/**
 * The change of one config source as that source makes it: only the keys either side sets. A
 * parse fills in upstream's defaults for keys the text leaves out; in a merge those are no
 * source's, so a source that never lists 10.0.0.0/8 neither adds nor removes it.
 */
export function diffSetKeys(before: SetConfig | null, after: SetConfig | null): ConfigDiff {
  // A source added or removed: the side without it sets nothing, so the scalars the other side
  // sets show as changed from their defaults (a source setting only resyncInterval read "No
  // changes" when added).
  const none: SetConfig = { config: defaultConfig(), keys: [] };
  if (before === null && after !== null) return diffSetKeys(none, after);
  if (after === null && before !== null) return diffSetKeys(before, none);
  // Scalars a text leaves out are the same default on both sides: only the lists need this.
  const own = (s: SetConfig | null): MasqConfig | null => {
    if (!s) return null;
    const list = (k: "nonMasqueradeCIDRs" | "masqueradeCIDRs") =>
      s.keys.includes(k) ? (s.config[k] ?? []) : [];
    return {
      ...s.config,
      nonMasqueradeCIDRs: list("nonMasqueradeCIDRs"),
      masqueradeCIDRs: list("masqueradeCIDRs"),
    };
  };
  return diffConfigs(own(before), own(after));
}
