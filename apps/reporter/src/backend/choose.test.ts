import { describe, expect, it } from "vitest";
import type { ExecResult } from "../exec.js";
import { chooseBackend, decideBackend, type ManagedChoice } from "./choose.js";

const ok = (stdout = ""): ExecResult => ({ code: 0, stdout, stderr: "", timedOut: false });
const missing: ExecResult = { code: 127, stdout: "", stderr: "spawn nft ENOENT", timedOut: false };
const bins = { iptables: "iptables", nft: "nft" };

// `nft list tables` as nodes print it: kube-proxy in nftables mode (dual-stack), a node with
// firewalld and iptables-nft's own tables, and a node with the agent's table only.
const KUBE_NFT = "table ip kube-proxy\ntable ip6 kube-proxy\ntable inet filter\n";
const KUBE_NFT_V4 = "table ip kube-proxy\n";
const IPTABLES_NFT = "table ip nat\ntable ip filter\ntable inet firewalld\n";
const NAMED_ELSEWHERE = "table ip my-kube-proxy\n";

describe("decideBackend", () => {
  it.each<{ desc: string; input: [ExecResult, ExecResult]; want: Partial<ManagedChoice> }>([
    {
      desc: "kube-proxy's nftables tables exist: nftables",
      input: [ok("iptables v1.8.9 (nf_tables)"), ok(KUBE_NFT)],
      want: {
        kind: "nftables",
        reason: "kube-proxy runs in nftables mode (ip kube-proxy, ip6 kube-proxy exists)",
      },
    },
    {
      desc: "IPv4-only kube-proxy in nftables mode",
      input: [ok("iptables v1.8.9 (nf_tables)"), ok(KUBE_NFT_V4)],
      want: { kind: "nftables" },
    },
    {
      desc: "no iptables program, nft runs: nftables",
      input: [missing, ok("")],
      want: { kind: "nftables", reason: "no iptables program on this node" },
    },
    {
      desc: "iptables-nft's own tables are not kube-proxy's: iptables",
      input: [ok("iptables v1.8.9 (nf_tables)"), ok(IPTABLES_NFT)],
      want: { kind: "iptables" },
    },
    {
      desc: "a table only named like kube-proxy's: iptables",
      input: [ok("iptables v1.8.9 (legacy)"), ok(NAMED_ELSEWHERE)],
      want: { kind: "iptables" },
    },
    {
      desc: "nft not installed: iptables",
      input: [ok("iptables v1.8.9 (legacy)"), missing],
      want: { kind: "iptables", reason: "iptables is installed and nft does not run" },
    },
    {
      desc: "neither runs: iptables, which will fail with its own clear error",
      input: [missing, missing],
      want: {
        kind: "iptables",
        reason: "neither iptables nor nft runs here (nft: spawn nft ENOENT)",
      },
    },
  ])("$desc", ({ input, want }) => {
    expect(decideBackend(input[0], input[1], bins)).toMatchObject(want);
  });
});

describe("chooseBackend", () => {
  it("takes a forced backend without probing", async () => {
    const run = async (): Promise<ExecResult> => {
      throw new Error("probed");
    };
    expect(await chooseBackend("nftables", run)).toEqual({
      kind: "nftables",
      reason: "--backend nftables",
    });
  });
  it("probes iptables and nft's tables for auto", async () => {
    const seen: string[][] = [];
    const run = async (argv: string[]) => {
      seen.push(argv);
      return argv[0] === "nft" ? ok(KUBE_NFT) : ok();
    };
    expect((await chooseBackend("auto", run)).kind).toBe("nftables");
    expect(seen).toEqual([
      ["iptables", "--version"],
      ["nft", "list", "tables"],
    ]);
  });
});
