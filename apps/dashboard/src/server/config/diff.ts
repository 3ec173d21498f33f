// What changed between two configs, for history entries and the validate dry run.
import { type MasqConfig, parseCidr } from "@masq/shared";

export interface ConfigDiff {
  /** CIDRs (as written in the newer config) that are new. */
  added: string[];
  /** CIDRs (as written in the older config) that are gone. */
  removed: string[];
  /** Other keys whose value changed. */
  changed: string[];
}

const SCALARS = ["masqLinkLocal", "masqLinkLocalIPv6", "cidrLimit", "resyncInterval"] as const;

/** Compares CIDRs by their canonical form, so "10.0.0.0/8" and "010.0.0.0/8"-style spellings match. */
function canonical(text: string): string {
  const p = parseCidr(text);
  return p.ok ? p.cidr.canonical : text;
}

export function diffConfigs(before: MasqConfig | null, after: MasqConfig | null): ConfigDiff {
  const a = before?.nonMasqueradeCIDRs ?? [];
  const b = after?.nonMasqueradeCIDRs ?? [];
  const inA = new Set(a.map(canonical));
  const inB = new Set(b.map(canonical));
  const changed = before && after ? SCALARS.filter((k) => before[k] !== after[k]) : [];
  return {
    added: unique(b.filter((c) => !inA.has(canonical(c)))),
    removed: unique(a.filter((c) => !inB.has(canonical(c)))),
    changed: [...changed],
  };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
