import {
  type CombinedVerdict,
  evaluate,
  evaluateAcrossBackends,
  type PacketFields,
  parseIp,
  type Verdict,
} from "@masq/shared";
import { type Command, InvalidArgumentError } from "commander";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatVerdict } from "./format-path.js";
import { CliExit, type CliIO, ERROR_EXIT, EXIT_ERROR, exitCodesHelp } from "./io.js";
import { addBackendOption, type BackendOption, nftSource, nftWhy } from "./nft-source.js";
import { addSourceOptions, readAnalyses, type SourceOptions } from "./source.js";

/** Exit codes of `why` (0 and 1 as every command: masqueraded, error). */
export const EXIT_MASQUERADED = 0;
export const EXIT_NOT_MASQUERADED = 10;
export const EXIT_DEPENDS = 11;

type WhyOptions = AgentFlagOptions &
  SourceOptions &
  BackendOption & {
    json?: boolean;
    source?: string;
    protocol?: string;
    dport?: number;
    mark?: number;
  };

function integer(what: string, max: number) {
  return (v: string): number => {
    const n = /^(0x[0-9a-f]+|[0-9]+)$/i.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n > max)
      throw new InvalidArgumentError(`${what} must be a number from 0 to ${max}`);
    return n;
  };
}

const HELP = `
Answers for a pod's new connection to IP, from the whole nat path: POSTROUTING and every chain
it reaches (kube-proxy, CNI plugins, Calico, AWS VPC CNI, flannel, Cilium, Docker, older agent
chains), not only the agent's chain. A match the given packet fields cannot decide (protocol,
ports, source, interfaces, marks, ipsets, conntrack state, …) makes the answer depend on it:
each branch is shown with its conditions. The destination is taken to be non-local (the
agent's own "! --dst-type LOCAL" is true for pod traffic to a remote address).

Examples:
  iptables-save -t nat | ipmasq why 8.8.8.8 --from -
  ipmasq why 10.20.30.40 --source 10.100.64.70 --mark 0 --from node.save
  ipmasq why 8.8.8.8 --protocol udp --dport 53 --netns node-a --json
`;

export function exitCodeOf(v: Verdict): number {
  if (v.masqueraded === null || !v.certain) return EXIT_DEPENDS;
  return v.masqueraded ? EXIT_MASQUERADED : EXIT_NOT_MASQUERADED;
}

export function registerWhy(program: Command, io: CliIO): void {
  const cmd = program
    .command("why")
    .description("would a pod's traffic to IP be masqueraded, and which rule decides")
    .argument("<ip>", "destination address")
    .option("--source <ip>", "the pod's address (source of the packet)")
    .option("--protocol <name>", "tcp, udp, icmp, sctp, … or a protocol number")
    .option("--dport <port>", "destination port", integer("--dport", 65535))
    .option(
      "--mark <value>",
      "the packet's mark in POSTROUTING, e.g. 0 or 0x4000",
      integer("--mark", 0xffffffff),
    )
    .option("--json", "print the verdict as JSON")
    .addHelpText("after", HELP)
    .addHelpText(
      "after",
      exitCodesHelp([
        [EXIT_MASQUERADED, "masqueraded (on every branch)"],
        [EXIT_NOT_MASQUERADED, "not masqueraded (on every branch)"],
        [
          EXIT_DEPENDS,
          "it depends on the packet, or the rules read cannot say (a chain not in the input,\nPOSTROUTING not in the input, a bound hit)",
        ],
        ERROR_EXIT,
      ]),
    );
  addAgentFlagOptions(addBackendOption(addSourceOptions(cmd))).action(
    async (ip: string, opts: WhyOptions) => {
      const parsed = parseIp(ip);
      if (!parsed) throw new CliExit(EXIT_ERROR, `"${ip}" is not an IP address`);
      const flags = agentFlagsFrom(opts);
      const nft = await nftSource(io, opts, flags);
      if (nft) {
        const v = nftWhy(nft, parsed.family, ip, packetFields(opts), flags.masqChain);
        return answer(io, v, opts.json, flags.masqChain);
      }
      const analyses = (
        await readAnalyses(
          io,
          { ...opts, family: opts.family === "auto" ? parsed.family : opts.family },
          flags,
        )
      ).filter((a) => a.family === parsed.family);
      if (analyses.length === 0)
        throw new CliExit(
          EXIT_ERROR,
          `no ${parsed.family} rules were read (IPv6 needs --enable-ipv6)`,
        );
      const fields = packetFields(opts);
      const v: Verdict | CombinedVerdict | { error: string } =
        analyses.length === 1
          ? evaluate(analyses[0]!, ip, fields)
          : evaluateAcrossBackends(analyses, ip, fields);
      answer(io, v, opts.json, flags.masqChain);
    },
  );
}

function answer(
  io: CliIO,
  v: Verdict | CombinedVerdict | { error: string },
  json: boolean | undefined,
  chain: string,
): void {
  if ("error" in v) throw new CliExit(EXIT_ERROR, v.error);
  io.stdout(json ? `${JSON.stringify(v, null, 2)}\n` : formatVerdict(v, chain));
  const code = exitCodeOf(v);
  if (code !== 0) throw new CliExit(code);
}

/** The packet fields given on the command line (absent ones stay unknown to the evaluator). */
function packetFields(opts: WhyOptions): PacketFields {
  const { source, protocol, dport, mark } = opts;
  return {
    ...(source !== undefined ? { source } : {}),
    ...(protocol !== undefined ? { protocol } : {}),
    ...(dport !== undefined ? { dport } : {}),
    ...(mark !== undefined ? { mark } : {}),
  };
}
