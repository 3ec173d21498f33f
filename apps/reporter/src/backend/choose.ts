// `--backend auto`: which rules the reporter manages on a Linux node, the iptables chain or its
// own nftables table. What it looks at, and nothing else:
//   - whether an `iptables` program runs (not installed, as on nodes shipped without iptables);
//   - whether `nft` runs, and whether kube-proxy's nftables tables exist (`nft list tables`
//     shows `table ip kube-proxy` / `table ip6 kube-proxy`: kube-proxy in nftables mode keeps
//     them; in iptables or ipvs mode it deletes them at start, pkg/proxy/nftables CleanupLeftovers).
// kube-proxy's config file (`mode: nftables`) is not read: the reporter does not mount it, and
// the tables are what the kernel really runs.
import { type ExecResult, programMissing } from "../exec.js";

export type BackendChoiceFlag = "iptables" | "nftables" | "auto";
export type ManagedBackend = "iptables" | "nftables";

export interface ManagedChoice {
  kind: ManagedBackend;
  /** Why, in words, for logs and `BackendInfo.backendReason`. */
  reason: string;
}

export type Run = (argv: string[]) => Promise<ExecResult>;

/** kube-proxy's nftables tables as `nft list tables` prints them. */
export const KUBE_PROXY_NFT_TABLES = ["table ip kube-proxy", "table ip6 kube-proxy"];

/** `nft list tables` lines naming kube-proxy's tables. */
export function kubeProxyNftTables(stdout: string): string[] {
  const lines = new Set(stdout.split("\n").map((l) => l.trim()));
  return KUBE_PROXY_NFT_TABLES.filter((t) => lines.has(t));
}

/** The decision from the two probes (pure, for tests). */
export function decideBackend(
  iptables: ExecResult,
  nftTables: ExecResult,
  bins: { iptables: string; nft: string },
): ManagedChoice {
  const nftRuns = nftTables.code === 0;
  if (programMissing(iptables)) {
    return nftRuns
      ? { kind: "nftables", reason: `no ${bins.iptables} program on this node` }
      : {
          kind: "iptables",
          reason: `neither ${bins.iptables} nor ${bins.nft} runs here (${bins.nft}: ${nftTables.stderr.trim() || `exit ${nftTables.code}`})`,
        };
  }
  const kube = nftRuns ? kubeProxyNftTables(nftTables.stdout) : [];
  if (kube.length > 0)
    return {
      kind: "nftables",
      reason: `kube-proxy runs in nftables mode (${kube.map((t) => t.slice(6)).join(", ")} exists)`,
    };
  return {
    kind: "iptables",
    reason: nftRuns
      ? "kube-proxy's nftables tables do not exist and iptables is installed"
      : `iptables is installed and ${bins.nft} does not run`,
  };
}

/** Probes the node (two short commands) and decides; a forced flag is taken as given. */
export async function chooseBackend(
  flag: BackendChoiceFlag,
  run: Run,
  bins: { iptables: string; nft: string } = { iptables: "iptables", nft: "nft" },
): Promise<ManagedChoice> {
  if (flag !== "auto") return { kind: flag, reason: `--backend ${flag}` };
  const [iptables, nftTables] = await Promise.all([
    run([bins.iptables, "--version"]),
    run([bins.nft, "list", "tables"]),
  ]);
  return decideBackend(iptables, nftTables, bins);
}
