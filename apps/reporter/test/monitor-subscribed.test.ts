// The real monitors in a throwaway network namespace: /proc shows `nft monitor` and
// `xtables-monitor -e` join the nftables group, and an edit made once it says so is seen.
import { spawn } from "node:child_process";
import { inNetns, netnsPool } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { monitorSubscribed } from "../src/monitor-subscribed.js";

const pool = netnsPool();
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  pool.cleanup();
});

describe("monitorSubscribed with the real monitors", () => {
  it.each([
    ["nft monitor", ["stdbuf", "-oL", "nft", "monitor"]],
    ["xtables-monitor -e", ["stdbuf", "-oL", "xtables-monitor", "-e"]],
  ])("%s: subscribed, then the first edit is printed", async (_name, argv) => {
    const ns = pool.add("mon-sub");
    const child = spawn("ip", ["netns", "exec", ns, ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    await until(() => monitorSubscribed(child.pid!) === true, 10_000, 5, "subscribed");
    inNetns(ns, ["nft", "add", "table", "ip", "probe"]);
    await until(() => out.includes("probe"), 5_000, 10, "the edit printed");
    expect(out).toContain("probe");
  });

  it("is false for a process with no netfilter subscription", () => {
    expect(monitorSubscribed(process.pid)).toBe(false);
  });
});
