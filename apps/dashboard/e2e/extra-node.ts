// A node one spec file adds to the e2e fleet (a network namespace of its own with a real
// reporter), and its removal: reporter stopped, node forgotten so the other files see the
// three-node fleet, namespace and temp dir deleted.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeToken } from "@masq/shared/node-token";
import { addNetns, deleteNetns, inNetns } from "@masq/testkit/netns";
import { type ChildHandle, startReporter } from "@masq/testkit/processes";
import { baseUrl, logsDir, TOKENS } from "./env.js";

export interface ExtraNode {
  reporter: ChildHandle;
  remove(): Promise<void>;
}

/**
 * `nat`: an iptables-restore payload loaded into the namespace before the reporter starts;
 * `opts.env`: more environment for the reporter (e.g. a PATH with a failing iptables-restore);
 * `opts.nft`: an `nft -f` script loaded too (e.g. kube-proxy in nftables mode, which makes the
 * reporter's `--backend auto` manage the agent's nftables table).
 */
export function startExtraNode(
  node: string,
  nat?: string,
  opts: { env?: Record<string, string>; nft?: string } = {},
): ExtraNode {
  const { env = {}, nft } = opts;
  deleteNetns(node);
  addNetns(node);
  if (nat !== undefined) inNetns(node, ["iptables-restore"], nat);
  if (nft !== undefined) inNetns(node, ["nft", "-f", "-"], nft);
  const dir = mkdtempSync(join(tmpdir(), `${node}-`));
  const reporter = startReporter({
    node,
    netns: node,
    dashboard: `${baseUrl().replace(/^http/, "ws")}/api/reporter`,
    token: nodeToken(TOKENS.reporter, node),
    stateDir: join(dir, "state"),
    // Appended to across runs of the spec: kept with the artifacts after the run.
    logFile: join(logsDir(), `${node}.log`),
    env: { IPMASQ_POLL_INTERVAL: "2s", ...env },
  });
  return {
    reporter,
    async remove() {
      await reporter.stop();
      await fetch(`${baseUrl()}/api/nodes/${node}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${TOKENS.admin}` },
      });
      deleteNetns(node);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
