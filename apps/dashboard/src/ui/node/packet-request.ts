// The tester's input as typed, turned into the evaluate request (or the first thing wrong).
import { type EvaluateRequest, MARK_ERROR, parseIp, parseMark } from "@masq/shared";

export interface PacketInput {
  ip: string;
  source: string;
  protocol: string;
  dport: string;
  mark: string;
}

/** The protocols the tester offers (the API takes any iptables protocol name or number). */
export const PROTOCOLS = ["tcp", "udp", "icmp", "sctp"] as const;

/**
 * The request for the input, or the first thing wrong with it. Only what the browser can say
 * at once is checked here; the server checks every field (and names it) again.
 */
export function packetRequest(input: PacketInput): { body: EvaluateRequest } | { error: string } {
  const ip = input.ip.trim();
  if (ip === "") return { error: "Type a destination IP." };
  if (!parseIp(ip)) return { error: `"${ip}" is not an IP address.` };
  const body: EvaluateRequest = { ip };
  const source = input.source.trim();
  if (source !== "") {
    if (!parseIp(source)) return { error: `Source "${source}" is not an IP address.` };
    body.source = source;
  }
  if (input.protocol !== "") body.protocol = input.protocol;
  const dport = input.dport.trim();
  if (dport !== "") {
    const n = /^[0-9]{1,5}$/.test(dport) ? Number(dport) : Number.NaN;
    if (!(n >= 0 && n <= 65535)) return { error: `Port "${dport}" is not a number in 0-65535.` };
    body.dport = n;
  }
  const mark = input.mark.trim();
  if (mark !== "") {
    const n = parseMark(mark);
    if (n === undefined) return { error: `Mark "${mark}": ${MARK_ERROR}.` };
    body.mark = n;
  }
  return { body };
}
