// Regenerates the `nft -j list ruleset` fixtures of this folder with the real nft binary: each
// fixture's script is loaded into a fresh network namespace (`nft -f`, or iptables-nft-restore for
// rules iptables writes) and the namespace's ruleset is dumped. Run as root:
//   npx tsx packages/testkit/src/nft-dumps/generate.ts
// Shapes follow the components' own code (kube-proxy pkg/proxy/nftables, flannel's nftables
// mode, upstream ip-masq-agent); addresses are neutral (private and RFC 5737 ranges).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_FLAGS, defaultConfig, renderNftApply } from "@masq/shared";
import { addNetns, deleteNetns, inNetns, uniqueNetnsName } from "../netns.js";
import { NFT_DUMP_SPECS } from "./specs.js";

export const AGENT_DEFAULT = renderNftApply(defaultConfig(), DEFAULT_FLAGS);

function dump(spec: (typeof NFT_DUMP_SPECS)[number]): string {
  const ns = addNetns(uniqueNetnsName(spec.name.slice(0, 8), "imn"));
  try {
    for (const step of spec.steps) {
      if (step.kind === "nft") inNetns(ns, ["nft", "-f", "-"], step.text);
      else inNetns(ns, ["iptables-nft-restore", "--noflush"], step.text);
    }
    const json = JSON.parse(inNetns(ns, ["nft", "-j", "list", "ruleset"]));
    return `${JSON.stringify(json, null, 1)}\n`;
  } finally {
    deleteNetns(ns);
  }
}

for (const spec of NFT_DUMP_SPECS) {
  writeFileSync(join(import.meta.dirname, `${spec.name}.json`), dump(spec));
  console.log(`${spec.name}.json`);
}
