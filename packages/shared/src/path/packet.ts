// The packet a path question is about: a pod's new connection to a destination, with the
// fields the asker knows. Every field but the destination is optional; an unknown field makes
// the rules that match on it conditions of the answer, never guesses.
import { z } from "zod";
import { type Family, type ParsedIp, parseIp } from "../cidr.js";
import { zodReason } from "../zod-error.js";
import { isLoopback } from "./loopback.js";

export interface Packet {
  family: Family;
  /** Undefined: any destination (what a node does to all traffic). */
  destination?: ParsedIp;
  source?: ParsedIp;
  /** IANA protocol number. */
  protocol?: number;
  /** Destination port (TCP, UDP, SCTP, UDP-Lite, DCCP). */
  dport?: number;
  /** The packet's mark (fwmark) when it reaches nat POSTROUTING. */
  mark?: number;
}

/** Protocol names as iptables prints them (/etc/protocols), and the aliases it accepts. */
const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  all: 0,
  icmp: 1,
  igmp: 2,
  ipencap: 4,
  tcp: 6,
  udp: 17,
  dccp: 33,
  gre: 47,
  esp: 50,
  ah: 51,
  "ipv6-icmp": 58,
  icmpv6: 58,
  icmp6: 58,
  sctp: 132,
  udplite: 136,
};
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);

/** IANA number of a protocol name or number as iptables takes it (`tcp`, `6`), or undefined. */
export function protocolNumber(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (/^[0-9]{1,3}$/.test(lower)) {
    const n = Number(lower);
    return n <= 255 ? n : undefined;
  }
  return PROTOCOL_NUMBERS[lower];
}

/** The name iptables prints for a protocol number (`6` → `tcp`), or the number. */
export function protocolName(n: number): string {
  for (const [name, v] of Object.entries(PROTOCOL_NUMBERS))
    if (v === n && name !== "icmpv6" && name !== "icmp6") return name;
  return String(n);
}

/** What a caller may ask about (CLI flags, the node page tester). */
export const packetQuerySchema = z.strictObject({
  destination: z.string().min(1).max(64),
  source: z.string().min(1).max(64).optional(),
  protocol: z.union([z.string().min(1).max(16), z.number().int()]).optional(),
  dport: z.number().int().optional(),
  mark: z.number().int().optional(),
});
export type PacketQuery = z.infer<typeof packetQuerySchema>;

function parseAddress(what: string, text: string, family?: Family): ParsedIp | string {
  const ip = parseIp(text);
  if (!ip) return `${what} "${text}" is not an IP address`;
  if (family && ip.family !== family)
    return `${what} ${text} is ${ip.family}, the destination is ${family}`;
  return ip;
}

/** One optional field of a query put into the packet: undefined, or what is wrong with it. */
type FieldStep = (packet: Packet, q: PacketQuery) => string | undefined;

const addSource: FieldStep = (packet, q) => {
  if (q.source === undefined) return undefined;
  const src = parseAddress("source", q.source, packet.family);
  if (typeof src === "string") return src;
  packet.source = src;
};

const addProtocol: FieldStep = (packet, q) => {
  if (q.protocol === undefined) return undefined;
  const p = protocolNumber(String(q.protocol));
  if (p === undefined)
    return `protocol "${q.protocol}" is not known (use e.g. tcp, udp, icmp, sctp or a number 0-255)`;
  if (p !== 0) packet.protocol = p;
};

/** After the protocol: a port needs a protocol that has ports. */
const addPort: FieldStep = (packet, q) => {
  if (q.dport === undefined) return undefined;
  if (q.dport < 0 || q.dport > 65535) return `destination port ${q.dport} is not in 0-65535`;
  if (packet.protocol !== undefined && !PORT_PROTOCOLS.has(packet.protocol))
    return `${protocolName(packet.protocol)} has no ports; --dport needs tcp, udp, sctp, udplite or dccp`;
  packet.dport = q.dport;
};

const addMark: FieldStep = (packet, q) => {
  if (q.mark === undefined) return undefined;
  if (q.mark < 0 || q.mark > 0xffffffff) return `mark ${q.mark} is not a 32-bit value`;
  packet.mark = q.mark;
};

/**
 * Checks a query and turns it into a Packet. Errors name the field: an unknown protocol, a port
 * outside 0-65535 or with a protocol that has no ports, a mark outside 32 bits, mixed families.
 */
export function parsePacket(
  query: unknown,
): { ok: true; packet: Packet } | { ok: false; error: string } {
  const q = packetQuerySchema.safeParse(query);
  if (!q.success)
    return {
      ok: false,
      error: zodReason(q.error, { issues: q.error.issues.length, root: "packet" }),
    };
  const dst = parseAddress("destination", q.data.destination);
  if (typeof dst === "string") return { ok: false, error: dst };
  // Taken as off the node, it would be answered as the agent's MASQUERADE does: never true.
  if (isLoopback(dst))
    return {
      ok: false,
      error: `${q.data.destination} is a loopback address: traffic to it stays on the host or in the pod that sends it, and the answers here are for pod traffic to addresses off the node (the agent's rules skip local destinations)`,
    };
  const packet: Packet = { family: dst.family, destination: dst };
  for (const step of [addSource, addProtocol, addPort, addMark]) {
    const error = step(packet, q.data);
    if (error !== undefined) return { ok: false, error };
  }
  return { ok: true, packet };
}
