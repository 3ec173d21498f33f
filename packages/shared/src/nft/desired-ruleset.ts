// The desired agent table as `nft -j list ruleset` would print it once applied, so the desired
// side of a native nftables node is read by the same analysis as the node's own table: the
// tester's DESIRED answer on an nftables node quotes the agent's nft rules and set, not the
// iptables chain another backend would write.
import type { Family, Range } from "../cidr.js";
import type { AgentFlags, MasqConfig } from "../config.js";
import { analyzeNftFamily, type NftFamilyAnalysis } from "./analysis.js";
import { NFT_CHAIN, NFT_CHAIN_PRIORITY, NFT_TABLE, NFT_TABLE_FAMILY } from "./names.js";
import { parseNftJson } from "./parse.js";
import {
  type DesiredNftRule,
  type DesiredNftSet,
  type DesiredNftTable,
  desiredNftTable,
  nftElementText,
} from "./render.js";

const where = { family: NFT_TABLE_FAMILY, table: NFT_TABLE };

/** One element as nft -j prints it: an address, `{prefix}` or `{range}`. */
function elementJson(family: Family, r: Range): unknown {
  const text = nftElementText(family, r);
  const [first, last] = text.split("-");
  if (last !== undefined) return { range: [first, last] };
  const [addr, len] = text.split("/");
  return len === undefined ? addr : { prefix: { addr, len: Number(len) } };
}

const match = (left: unknown, right: unknown, op = "==") => ({ match: { op, left, right } });

/** `1024-29999` or `5000` as nft -j prints a port. */
function portJson(ports: string): unknown {
  const [first, last] = ports.split("-").map(Number);
  return last === undefined ? first : { range: [first, last] };
}

function exprOf(r: DesiredNftRule): unknown[] {
  switch (r.kind) {
    case "local-return":
      return [match({ fib: { result: "type", flags: ["daddr"] } }, "local"), { return: null }];
    case "ipv6-off":
      return [match({ meta: { key: "nfproto" } }, "ipv6"), { return: null }];
    case "set-return": {
      const protocol = r.statement.startsWith("ip6 ") ? "ip6" : "ip";
      return [match({ payload: { protocol, field: "daddr" } }, `@${r.set}`), { return: null }];
    }
    case "masquerade": {
      const body = {
        ...(r.ports ? { port: portJson(r.ports) } : {}),
        ...(r.fullyRandom ? { flags: "fully-random" } : {}),
      };
      const masquerade = { masquerade: Object.keys(body).length > 0 ? body : null };
      if (!r.ports) return [masquerade];
      const l4 = match({ meta: { key: "l4proto" } }, { set: ["tcp", "udp", "sctp"] });
      const draw = r.numgen
        ? [match({ numgen: { mode: "random", mod: r.numgen.mod, offset: 0 } }, r.numgen.below, "<")]
        : [];
      return [l4, ...draw, masquerade];
    }
  }
}

function setJson(s: DesiredNftSet): unknown {
  return {
    set: {
      ...where,
      name: s.name,
      type: s.type,
      flags: ["interval"],
      ...(s.ranges.length > 0 ? { elem: s.ranges.map((r) => elementJson(s.family, r)) } : {}),
    },
  };
}

/** The `nftables` array of the desired table (config + flags), as the node would list it. */
export function desiredNftRuleset(config: MasqConfig, flags: AgentFlags): unknown[] {
  const d = desiredNftTable(config, flags);
  return [
    { table: { family: NFT_TABLE_FAMILY, name: NFT_TABLE } },
    ...d.sets.map(setJson),
    {
      chain: {
        ...where,
        name: NFT_CHAIN,
        type: "nat",
        hook: "postrouting",
        prio: NFT_CHAIN_PRIORITY,
        policy: "accept",
      },
    },
    ...d.rules.map((r) => ({
      rule: { ...where, chain: NFT_CHAIN, comment: r.comment, expr: exprOf(r) },
    })),
  ];
}

/** Per desired table (desiredNftTable keeps one per config and flags): asked per packet. */
const analyses = new WeakMap<DesiredNftTable, Map<Family, NftFamilyAnalysis>>();

/**
 * The desired table of one family as the nftables analysis reads a node, alone on the hook
 * (as the desired iptables chain is judged as if it were the node's only rules).
 */
export function desiredNftAnalysis(
  config: MasqConfig,
  flags: AgentFlags,
  family: Family,
): NftFamilyAnalysis {
  const d = desiredNftTable(config, flags);
  const byFamily = analyses.get(d) ?? new Map<Family, NftFamilyAnalysis>();
  analyses.set(d, byFamily);
  const known = byFamily.get(family);
  if (known) return known;
  const a = analyzeNftFamily(parseNftJson(desiredNftRuleset(config, flags)), family);
  byFamily.set(family, a);
  return a;
}
