// The ExceptionList a config wants on a Windows node.
import { parseCidr } from "../cidr.js";
import type { MasqConfig } from "../config.js";
import { MAX_WINDOWS_EQUIVALENT_CIDRS } from "../limits.js";
import { keptRanges, LINK_LOCAL_CIDR, usesExceptions } from "../masquerade-decision.js";
import { setToCidrs } from "../path/range-set.js";

export type WindowsListResult = { ok: true; list: string[] } | { ok: false; reason: string };

/**
 * The ExceptionList a config wants on Windows. Without masqueradeCIDRs: its IPv4
 * nonMasqueradeCIDRs in order, canonical, without duplicates, then 169.254.0.0/16 unless
 * masqLinkLocal. An ExceptionList cannot say "except", so with masqueradeCIDRs it is the
 * equivalent list: the IPv4 destinations the config keeps unmasqueraded (longest prefix
 * deciding, link-local included) as the fewest CIDRs, in address order; refused (ok false) when
 * that takes more than MAX_WINDOWS_EQUIVALENT_CIDRS. IPv6 CIDRs are left out (see windowsDrift)
 * and so are invalid entries (validateConfig reports those).
 */
export function windowsExceptionList(config: MasqConfig): WindowsListResult {
  if (!usesExceptions(config)) return { ok: true, list: plainList(config) };
  // Merged first: neighbouring ranges (nested or adjacent entries) make fewer CIDRs together.
  const list = setToCidrs("ipv4", keptRanges(config, "ipv4"), MAX_WINDOWS_EQUIVALENT_CIDRS);
  if (list) return { ok: true, list };
  return {
    ok: false,
    reason: `masqueradeCIDRs cannot be applied on Windows: an OutBoundNAT ExceptionList cannot say "except", and the equivalent list (the non-masquerade ranges minus the exceptions) needs more than ${MAX_WINDOWS_EQUIVALENT_CIDRS} CIDRs; use fewer or wider exceptions`,
  };
}

function plainList(config: MasqConfig): string[] {
  const out: string[] = [];
  for (const text of config.nonMasqueradeCIDRs) {
    const r = parseCidr(text);
    if (!r.ok || r.cidr.family !== "ipv4" || out.includes(r.cidr.canonical)) continue;
    out.push(r.cidr.canonical);
  }
  if (!config.masqLinkLocal && !out.includes(LINK_LOCAL_CIDR)) out.push(LINK_LOCAL_CIDR);
  return out;
}

/**
 * The ExceptionList a config wants on Windows (windowsExceptionList); a config whose equivalent
 * list is refused wants no change: [] here, and windowsDrift names the refusal.
 */
export function desiredExceptions(config: MasqConfig): string[] {
  const r = windowsExceptionList(config);
  return r.ok ? r.list : [];
}
