// Reading ExceptionList entries as HNS does, and telling the IPv6 lists of dual-stack configs
// (reported, never managed: IPv6 is not managed on Windows) from the IPv4 ones.
import { type Cidr, type Family, parseCidr, parseIp } from "../cidr.js";

export type ExceptionEntry =
  | {
      ok: true;
      cidr: Cidr;
      /** True when the text is already the canonical CIDR. */
      exact: boolean;
      /** Why the text is not canonical. */
      note?: "plain IP" | "not aligned" | "not canonical";
    }
  | { ok: false; text: string };

/**
 * Reads one ExceptionList entry leniently, as HNS does: a plain IP is a /32 (/128), a CIDR with
 * host bits set means its network (as Go's net.ParseCIDR returns it), surrounding spaces are
 * ignored. Anything else (template placeholders such as "%CLUSTER_CIDR%", "") is unreadable.
 */
export function readExceptionEntry(text: string): ExceptionEntry {
  const t = text.trim();
  if (!t.includes("/")) {
    const ip = parseIp(t);
    if (!ip) return { ok: false, text };
    const prefix = ip.family === "ipv4" ? 32 : 128;
    const r = parseCidr(`${t}/${prefix}`);
    if (!r.ok) return { ok: false, text };
    return { ok: true, cidr: r.cidr, exact: false, note: "plain IP" };
  }
  const r = parseCidr(t);
  if (r.ok) {
    const exact = r.cidr.canonical === text;
    return exact
      ? { ok: true, cidr: r.cidr, exact }
      : { ok: true, cidr: r.cidr, exact, note: "not canonical" };
  }
  if (r.reason === "misaligned" && r.suggestion) {
    const n = parseCidr(r.suggestion);
    if (n.ok) return { ok: true, cidr: { ...n.cidr, text }, exact: false, note: "not aligned" };
  }
  return { ok: false, text };
}

function familyOf(entry: string): Family | undefined {
  const r = readExceptionEntry(entry);
  return r.ok ? r.cidr.family : undefined;
}

/** A list holding IPv6 entries and no IPv4 one: the IPv6 policy of a dual-stack config. */
export function isIPv6List(entries: readonly string[]): boolean {
  const families = entries.map(familyOf);
  return families.includes("ipv6") && !families.includes("ipv4");
}

/**
 * The IPv6 entries of a list that also holds IPv4 ones, or [] when the list has one family. HNS
 * takes one exception list per address family (AKS writes a separate OutBoundNAT policy for
 * IPv6), so such a list is suspect.
 */
export function mixedListIPv6(entries: readonly string[]): string[] {
  const families = entries.map(familyOf);
  if (!families.includes("ipv4")) return [];
  return entries.filter((_, i) => families[i] === "ipv6");
}
