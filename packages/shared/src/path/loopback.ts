// Loopback sources: no pod sends from 127.0.0.0/8 or ::1, so a NAT rule whose branch only
// ever sees such sources (Cilium's `-s 127.0.0.1/32 -o cilium_host -j SNAT`, the host talking to
// its cluster from 127.0.0.1) says nothing about pod traffic, whatever destinations it covers.
// Loopback destinations are local to every host: the evaluator, which takes the destination as
// off the node (the agent's `! --dst-type LOCAL` as true), cannot answer for them.
import { cidrContainsIp, type Family, type ParsedIp, parseCidr } from "../cidr.js";
import { cidrRange, type RangeSet, relation } from "./range-set.js";

const LOOPBACK: Record<Family, string> = { ipv4: "127.0.0.0/8", ipv6: "::1/128" };

/** Whether every source of a branch is a loopback address (false for an empty set). */
export function loopbackSourcesOnly(source: RangeSet, family: Family): boolean {
  const p = parseCidr(LOOPBACK[family]);
  if (!p.ok) return false;
  return source.length > 0 && relation(source, cidrRange(p.cidr)) === "inside";
}

/** Whether an address is a loopback one (127.0.0.0/8, ::1): local on every host. */
export function isLoopback(ip: ParsedIp): boolean {
  const p = parseCidr(LOOPBACK[ip.family]);
  return p.ok && cidrContainsIp(p.cidr, ip);
}
