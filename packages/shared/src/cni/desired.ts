// The ExceptionList a config wants on a Windows node.
import { parseCidr } from "../cidr.js";
import { LINK_LOCAL_CIDR, type MasqConfig } from "../config.js";

/**
 * The ExceptionList a config wants on Windows: its IPv4 nonMasqueradeCIDRs in order, canonical,
 * without duplicates, then 169.254.0.0/16 unless masqLinkLocal. IPv6 CIDRs are left out (see
 * windowsDrift) and so are invalid entries (validateConfig reports those; a validated config has
 * none).
 */
export function desiredExceptions(config: MasqConfig): string[] {
  const out: string[] = [];
  for (const text of config.nonMasqueradeCIDRs) {
    const r = parseCidr(text);
    if (!r.ok || r.cidr.family !== "ipv4" || out.includes(r.cidr.canonical)) continue;
    out.push(r.cidr.canonical);
  }
  if (!config.masqLinkLocal && !out.includes(LINK_LOCAL_CIDR)) out.push(LINK_LOCAL_CIDR);
  return out;
}
