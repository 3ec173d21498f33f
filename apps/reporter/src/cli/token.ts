// `ipmasq token`: the per-node reporter token for standalone dashboards (no Kubernetes to vouch
// for a reporter's node). Derived from the dashboard's reporter secret; the node keeps only its
// own token, which lets it speak for that node and no other.
import { writeFile } from "node:fs/promises";
import { nodeToken } from "@masq/shared/node-token";
import type { Command } from "commander";
import {
  CliExit,
  type CliIO,
  ERROR_EXIT,
  EXIT_ERROR,
  EXIT_OK,
  exitCodesHelp,
  readInput,
} from "./io.js";

interface TokenOptions {
  node: string;
  secretFile: string;
  out?: string;
}

const HELP = `
Examples:
  ipmasq token --node node-a --secret-file /var/lib/ipmasq-dashboard/reporter-token
  ipmasq token --node node-a --secret-file secret.txt --out /etc/ipmasq/token
`;

export function registerToken(program: Command, io: CliIO): void {
  program
    .command("token")
    .description(
      "print the reporter token of one node, derived from the dashboard's reporter secret",
    )
    .requiredOption("--node <name>", "the node's name, exactly as its reporter's --node")
    .requiredOption(
      "--secret-file <file>",
      "the dashboard's reporter secret ($IPMASQ_DATA_DIR/reporter-token); - for stdin",
    )
    .option("--out <file>", "write the token to this file (mode 0600) instead of stdout")
    .addHelpText("after", HELP)
    .addHelpText("after", exitCodesHelp([[EXIT_OK, "the token printed or written"], ERROR_EXIT]))
    .action(async (opts: TokenOptions) => {
      const secret = (await readInput(io, opts.secretFile)).trim();
      if (!secret) throw new CliExit(EXIT_ERROR, `${opts.secretFile} holds no secret`);
      let token: string;
      try {
        token = nodeToken(secret, opts.node);
      } catch (e) {
        throw new CliExit(EXIT_ERROR, (e as Error).message);
      }
      if (!opts.out) return io.stdout(`${token}\n`);
      try {
        await writeFile(opts.out, `${token}\n`, { mode: 0o600 });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        throw new CliExit(EXIT_ERROR, `cannot write ${opts.out}: ${code}`);
      }
    });
}
