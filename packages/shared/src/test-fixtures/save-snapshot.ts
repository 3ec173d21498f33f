// A family snapshot (as a reporter sends it) from an iptables-save nat table: one chain per
// declaration, each with `-N`/`-P` and its `-A` lines as `iptables -S CHAIN` prints them.
import type { Family } from "../cidr.js";
import type { FamilySnapshot, IptablesBackend } from "../protocol.js";

export function saveSnapshot(
  save: string,
  family: Family = "ipv4",
  backend: IptablesBackend = "nf_tables",
): FamilySnapshot {
  const chains = new Map<string, string[]>();
  for (const line of save.split("\n")) {
    const decl = /^:(\S+) (\S+)/.exec(line);
    if (decl)
      chains.set(decl[1]!, [decl[2] === "-" ? `-N ${decl[1]}` : `-P ${decl[1]} ${decl[2]}`]);
    const rule = /^-A (\S+) /.exec(line);
    if (rule) chains.get(rule[1]!)?.push(line);
  }
  return { family, backend, chains: [...chains].map(([name, lines]) => ({ name, lines })) };
}
