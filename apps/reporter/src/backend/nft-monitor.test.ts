import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { type MonitorEvent, startWatcher, type Watcher } from "../watcher.js";
import { nftEventFilter, parseNftMonitorLine } from "./nft-monitor.js";

// Lines as `nft monitor` (nftables 1.0.6) printed them for an apply, a hand edit and a delete.
const LINES = {
  table: "add table inet ipmasq",
  chain:
    "add chain inet ipmasq postrouting { type nat hook postrouting priority srcnat; policy accept; }",
  rule: "add rule inet ipmasq postrouting handle 3 ip daddr @nomasq4 return",
  delRule: "delete rule ip kube-proxy masquerading handle 12",
  element: "delete element inet ipmasq nomasq4 { 10.0.0.0/8 }",
  kubeElement:
    "add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }",
  bridge: "add rule bridge filter forward counter",
  newgen: "# new generation 3 by process 25936 (nft)",
};

describe("parseNftMonitorLine", () => {
  it.each<{ desc: string; input: string; want: MonitorEvent }>([
    { desc: "a table", input: LINES.table, want: { kind: "table", table: "inet ipmasq" } },
    {
      desc: "a base chain",
      input: LINES.chain,
      want: {
        kind: "chain",
        table: "inet ipmasq",
        chain: "postrouting",
        object: "chain",
        natPostrouting: true,
      },
    },
    {
      desc: "a rule (handle after the chain)",
      input: LINES.rule,
      want: { kind: "rule", table: "inet ipmasq", chain: "postrouting", object: "rule" },
    },
    {
      desc: "an inserted rule (nft insert rule)",
      input: "insert rule inet ipmasq postrouting ip daddr 203.0.113.0/24 masquerade",
      want: { kind: "rule", table: "inet ipmasq", chain: "postrouting", object: "rule" },
    },
    {
      desc: "a deleted rule",
      input: LINES.delRule,
      want: { kind: "rule", table: "ip kube-proxy", chain: "masquerading", object: "rule" },
    },
    {
      desc: "a set element (the set is the object)",
      input: LINES.element,
      want: { kind: "rule", table: "inet ipmasq", chain: "nomasq4", object: "element" },
    },
    {
      desc: "another kind of object (named, with its table)",
      input: "add counter inet ipmasq hits { packets 0 bytes 0 }",
      want: { kind: "other", table: "inet ipmasq", object: "counter" },
    },
    {
      desc: "nft's netlink buffer overflowed (src/mnl.c)",
      input: "# ERROR: We lost some netlink events!",
      want: { kind: "lost" },
    },
    { desc: "a family without nat postrouting", input: LINES.bridge, want: { kind: "other" } },
    { desc: "the end of a transaction", input: LINES.newgen, want: { kind: "newgen" } },
    { desc: "noise", input: "", want: { kind: "other" } },
  ])("$desc", ({ input, want }) => {
    expect(parseNftMonitorLine(input)).toEqual(want);
  });
});

describe("nftEventFilter", () => {
  const watched = {
    tables: new Set(["inet ipmasq", "ip kube-proxy"]),
    objects: new Set(["ip kube-proxy nat-postrouting", "ip kube-proxy masquerading"]),
  };
  const relevant = nftEventFilter(() => watched, new Set(["inet ipmasq"]));
  it.each<{ desc: string; input: string; want: boolean }>([
    { desc: "the agent's table, any object", input: LINES.element, want: true },
    { desc: "a chain on the path", input: LINES.delRule, want: true },
    {
      desc: "kube-proxy's service map (not on the nat postrouting path)",
      input: LINES.kubeElement,
      want: false,
    },
    {
      desc: "a new nat postrouting chain anywhere",
      input: "add chain ip t c { type nat hook postrouting priority srcnat; policy accept; }",
      want: true,
    },
    {
      desc: "kube-proxy adding a service chain (not on the path)",
      input: "add chain ip kube-proxy service-MROBKYGK-ns1/svc1/tcp/p80",
      want: false,
    },
    {
      desc: "a chain on the path deleted",
      input: "delete chain ip kube-proxy masquerading",
      want: true,
    },
    { desc: "a new table", input: "add table ip other", want: true },
    { desc: "the end of a transaction", input: LINES.newgen, want: false },
    { desc: "lost events", input: "# ERROR: We lost some netlink events!", want: true },
    {
      desc: "a counter added to the agent's table",
      input: "add counter inet ipmasq hits { packets 0 bytes 0 }",
      want: true,
    },
    {
      desc: "a counter of another table",
      input: "add counter ip kube-proxy hits { packets 0 bytes 0 }",
      want: false,
    },
  ])("$desc", ({ input, want }) => {
    expect(relevant(parseNftMonitorLine(input))).toBe(want);
  });
  it("takes every event before the first read", () => {
    const empty = nftEventFilter(() => ({ tables: new Set(), objects: new Set() }), new Set());
    expect(empty(parseNftMonitorLine(LINES.kubeElement))).toBe(true);
  });
});

describe("startWatcher with nft monitor lines", () => {
  let w: Watcher | undefined;
  afterEach(() => w?.close());
  const fake = (text: string) => [
    "node",
    "-e",
    `process.stdout.write(${JSON.stringify(text)}); setInterval(() => {}, 1000);`,
  ];

  it("re-reads once per transaction and ignores other tables' churn", async () => {
    const sources: string[] = [];
    w = startWatcher({
      monitorArgv: fake(`${[LINES.kubeElement, LINES.element, LINES.newgen].join("\n")}\n`),
      parseLine: parseNftMonitorLine,
      isRelevant: nftEventFilter(
        () => ({ tables: new Set(["inet ipmasq"]), objects: new Set() }),
        new Set(["inet ipmasq"]),
      ),
      onChange: (s) => sources.push(s),
      pollIntervalMs: 0,
      settleMs: 10_000,
    });
    await until(() => sources.length > 0, 5_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(sources).toEqual(["event"]);
  });

  it("drops a line that never ends past the bound and re-reads", async () => {
    const sources: string[] = [];
    w = startWatcher({
      monitorArgv: fake("x".repeat(70 * 1024)),
      parseLine: parseNftMonitorLine,
      isRelevant: () => false,
      onChange: (s) => sources.push(s),
      pollIntervalMs: 0,
      settleMs: 10_000,
    });
    await until(() => sources.length > 0, 5_000);
    expect(sources).toEqual(["event"]);
  });
});
