// `ipmasq drift|inspect --backend nftables` on a live nftables node: in sync after an apply,
// drifted (exit 3) after a hand edit, and `auto` picks nftables where kube-proxy's tables are.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NFT_TABLE } from "@masq/shared";
import { kubeProxyNftScript } from "@masq/testkit/kube-proxy-nft";
import { inNetns, netnsPool } from "@masq/testkit/netns";
import { afterEach, expect, it } from "vitest";
import { cli } from "./helpers/run-cli.js";

const pool = netnsPool();
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  pool.cleanup();
});

function configFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "imr-nftcli-"));
  dirs.push(dir);
  writeFileSync(join(dir, "c.yaml"), "nonMasqueradeCIDRs:\n  - 10.0.0.0/8\n");
  return join(dir, "c.yaml");
}

it("drift and inspect read the nftables node; auto picks it where kube-proxy runs in nftables mode", async () => {
  const ns = pool.add("nftcli");
  inNetns(ns, ["nft", "-f", "-"], kubeProxyNftScript(3));
  const config = configFile();
  // No --backend: auto, because kube-proxy's nftables table exists.
  expect((await cli(["apply", "--config", config, "--netns", ns])).stdout).toMatch(
    /nftables table written/,
  );
  expect((await cli(["drift", "--config", config, "--netns", ns])).code).toBe(0);
  inNetns(ns, ["nft", "delete", "element", "inet", NFT_TABLE, "nonmasq_v4", "{ 10.0.0.0/8 }"]);
  const drift = await cli([
    "drift",
    "--config",
    config,
    "--netns",
    ns,
    "--backend",
    "nftables",
    "--json",
  ]);
  expect(drift.code).toBe(3);
  expect(JSON.parse(drift.stdout).differences).toContainEqual(
    expect.objectContaining({ kind: "missing-cidr", cidr: "10.0.0.0/8" }),
  );
  const inspect = await cli(["inspect", "--netns", ns, "--backend", "nftables"]);
  expect(inspect.code).toBe(0);
  expect(inspect.stdout).toMatch(/chain ip kube-proxy nat-postrouting \(priority 100\)/);
  expect(inspect.stdout).toMatch(
    new RegExp(`chain inet ${NFT_TABLE} postrouting \\(priority 100\\)`),
  );
});
