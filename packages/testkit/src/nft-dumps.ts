// `nft -j list ruleset` output of real nft (v1.0.6) for real kinds of nodes, made by
// nft-dumps/generate.ts from the scripts in nft-dumps/specs.ts. One import path:
// `@masq/testkit/nft-dumps`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { NFT_DUMP_SPECS } from "./nft-dumps/specs.js";

export {
  CALICO_TABLE,
  DOCKER_TABLE,
  FLANNEL_TABLE,
  KUBE_PROXY_TABLE,
  KUBE_PROXY_TABLE_IPV6,
  NFT_DUMP_SPECS,
  RANGES_CONFIG,
  RANGES_FLAGS,
} from "./nft-dumps/specs.js";

/** The parsed JSON (`{"nftables": [...]}`) of one fixture, e.g. nftDump("agent-default"). */
export function nftDump(name: string): unknown {
  return JSON.parse(nftDumpText(name));
}

/** The text of one fixture, as nft printed it (re-indented). */
export function nftDumpText(name: string): string {
  if (!NFT_DUMP_SPECS.some((s) => s.name === name)) throw new Error(`no nft dump named ${name}`);
  return readFileSync(join(import.meta.dirname, "nft-dumps", `${name}.json`), "utf8");
}
