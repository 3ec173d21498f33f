// The agent chains a node should hold, as `iptables -S` prints them, rendered here from the
// node's desired revision and flags (shared desiredChain, upstream-identical lines). After a
// config push every in-sync node names its new agent chain by a digest nobody has sent whole
// yet: thousands of nodes would each be asked for their rules before the first answer came.
// A digest equal to that of a chain rendered here proves the node holds exactly those lines
// (SHA-256), so the chain is known without a round trip. Nothing is assumed: a node whose chain
// differs in any byte names another digest, and is asked for its rules as before.
// The dashboard tries them for chains it does not hold; a reporter names its agent chain by
// digest only when it is one of them (the dashboard then holds it without asking).
import type { AgentFlags, MasqConfig } from "./config.js";
import { tokenize } from "./parser.js";
import type { ChainSnapshot, Hello } from "./protocol.js";
import { desiredChain, familiesFor, quoteArg } from "./rules.js";

/** (revision, flags) renderings kept: a fleet has a few flag sets, a rollout two revisions. */
const MAX_RENDERED = 64;

export interface DesiredOf {
  revision: number;
  resourceVersion: string;
  config: MasqConfig;
}

/**
 * Options `iptables -S` prints first, in this order, each with its `!` (iptables' print of a
 * rule: addresses, interfaces, protocol, then the match modules and the target as written).
 */
const LEADING = [
  ["-s", "--source"],
  ["-d", "--destination"],
  ["-i", "--in-interface"],
  ["-o", "--out-interface"],
  ["-p", "--protocol"],
] as const;

/**
 * A rule line of the restore payload as `iptables -S` prints it back: upstream writes the
 * comment match before `-d`, the kernel's listing puts addresses first. Undefined when the line
 * cannot be read (then only the payload order is tried).
 */
export function listedOrder(line: string): string | undefined {
  const words = tokenize(line);
  if (typeof words === "string" || words[0] !== "-A" || words.length < 2) return undefined;
  const lead: string[][] = LEADING.map(() => []);
  const rest: string[] = [];
  for (let i = 2; i < words.length; i++) {
    const neg = words[i] === "!" ? 1 : 0;
    const k = LEADING.findIndex((names) => (names as readonly string[]).includes(words[i + neg]!));
    if (k < 0 || i + neg + 1 >= words.length) {
      rest.push(words[i]!);
      continue;
    }
    lead[k]!.push(...(neg ? ["!"] : []), LEADING[k]![0], words[i + neg + 1]!);
    i += neg + 1;
  }
  return ["-A", words[1]!, ...lead.flat(), ...rest]
    .map((w, j) => (j < 2 ? w : quoteArg(w)))
    .join(" ");
}

export class DesiredChains {
  private readonly rendered = new Map<string, ChainSnapshot[]>();

  /**
   * The agent chain of each family the flags manage, for `desired`, in two spellings: as
   * `iptables -S` lists it (real nodes) and in the payload's order (a backend that keeps rules
   * as written, the memory backend). Memoised.
   */
  of(desired: DesiredOf, flags: AgentFlags): ChainSnapshot[] {
    const key = `${desired.revision}|${desired.resourceVersion}|${JSON.stringify(flags)}`;
    let chains = this.rendered.get(key);
    if (chains === undefined) {
      chains = familiesFor(flags).flatMap((f) => {
        const d = desiredChain(desired.config, flags, f);
        const written = d.rules.map((r) => r.line);
        const listed = written.map((l) => listedOrder(l) ?? l);
        return [
          { name: d.chain, lines: [`-N ${d.chain}`, ...listed] },
          { name: d.chain, lines: [`-N ${d.chain}`, ...written] },
        ];
      });
      if (this.rendered.size >= MAX_RENDERED)
        this.rendered.delete(this.rendered.keys().next().value!);
      this.rendered.set(key, chains);
    }
    return chains;
  }

  /** The agent chains of `desired` for a node that said `hello` (random-fully where supported). */
  ofNode(
    desired: DesiredOf,
    hello: Pick<Hello, "flags" | "randomFullySupported">,
  ): ChainSnapshot[] {
    const randomFully = hello.flags.randomFully && hello.randomFullySupported;
    return this.of(desired, { ...hello.flags, randomFully });
  }
}
