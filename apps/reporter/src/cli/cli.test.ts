// The ipmasq CLI in-process, against golden files (UPDATE_GOLDEN=1 rewrites them).
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyNodeToken } from "@masq/shared/node-token";
import { CNI_CONFIGS_DIR as CNI } from "@masq/testkit/cni-configs";
import { nftDumpText } from "@masq/testkit/nft-dumps";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliIO } from "./io.js";
import { runCli } from "./program.js";

const here = import.meta.dirname;
const data = (f: string) => join(here, "testdata", f);
const cni = (f: string) => join(CNI, f);

async function run(args: string[], stdin = "") {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    readStdin: async () => stdin,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

function golden(name: string, actual: string): void {
  const path = join(here, "golden", name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, "utf8"));
}

const goldenCases: {
  desc: string;
  args: string[];
  stdin?: string;
  code: number;
  file: string;
  stderr?: string;
}[] = [
  {
    desc: "render the default config",
    args: ["render", "--config", data("default.yaml")],
    code: 0,
    file: "render-default.txt",
  },
  {
    desc: "render without --random-fully, other chain",
    args: [
      "render",
      "--config",
      data("default.yaml"),
      "--random-fully=false",
      "--masq-chain",
      "MASQ-TEST",
    ],
    code: 0,
    file: "render-no-random-fully.txt",
  },
  {
    desc: "render the nft -f script of the nftables backend",
    args: ["render", "--config", data("dual-stack.json"), "--enable-ipv6", "--backend", "nftables"],
    code: 0,
    file: "render-nftables.txt",
  },
  {
    desc: "render ipv4 of a dual-stack config",
    args: ["render", "--config", data("dual-stack.json"), "--enable-ipv6"],
    code: 0,
    file: "render-dual-ipv4.txt",
  },
  {
    desc: "render ipv6 of a dual-stack config",
    args: ["render", "--config", data("dual-stack.json"), "--enable-ipv6", "--family", "ipv6"],
    code: 0,
    file: "render-dual-ipv6.txt",
  },
  {
    desc: "render with --to-ports",
    args: ["render", "--config", data("default.yaml"), "--to-ports", "1024-29999,32768-65535"],
    code: 0,
    file: "render-to-ports.txt",
  },
  {
    desc: "render the reserved-ranges defaults with the jump",
    args: ["render", "--config", "-", "--nomasq-all-reserved-ranges", "--with-jump"],
    stdin: "",
    code: 0,
    file: "render-reserved-with-jump.txt",
  },
  {
    desc: "render masqueradeCIDRs: most specific first",
    args: ["render", "--config", data("exceptions.yaml")],
    code: 0,
    file: "render-exceptions.txt",
  },
  {
    desc: "render masqueradeCIDRs for Windows: the equivalent ExceptionList",
    args: ["render", "--config", data("exceptions.yaml"), "--windows"],
    code: 0,
    file: "render-exceptions-windows.txt",
  },
  {
    desc: "drift with masqueradeCIDRs, in sync",
    args: ["drift", "--config", data("exceptions.yaml"), "--from", data("node-exceptions.save")],
    code: 0,
    file: "drift-exceptions-in-sync.txt",
  },
  {
    desc: "drift: the exception behind its containing RETURN",
    args: [
      "drift",
      "--config",
      data("exceptions.yaml"),
      "--from",
      data("node-exception-shadowed.save"),
    ],
    code: 3,
    file: "drift-exception-shadowed.txt",
  },
  {
    desc: "inspect: the exception's rule behind the RETURN never applies",
    args: ["inspect", "--from", data("node-exception-shadowed.save")],
    code: 0,
    file: "inspect-exception-shadowed.txt",
  },
  {
    desc: "why: an address of the exception names masqueradeCIDRs",
    args: ["why", "10.100.10.2", "--mark", "0", "--from", data("node-exceptions.save")],
    code: 0,
    file: "why-exception.txt",
  },
  {
    desc: "why: beside the exception, nonMasqueradeCIDRs decides",
    args: ["why", "10.100.11.2", "--mark", "0", "--from", data("node-exceptions.save")],
    code: 10,
    file: "why-exception-beside.txt",
  },
  {
    desc: "why: the exception's rule is dead behind the RETURN",
    args: ["why", "10.100.10.2", "--mark", "0", "--from", data("node-exception-shadowed.save")],
    code: 10,
    file: "why-exception-shadowed.txt",
  },
  {
    desc: "inspect -S output",
    args: ["inspect", "--from", data("node-in-sync.txt")],
    code: 0,
    file: "inspect-in-sync.txt",
  },
  {
    desc: "inspect an iptables-save dump",
    args: ["inspect", "--from", data("node-drifted.save")],
    code: 0,
    file: "inspect-drifted.txt",
  },
  {
    desc: "drift in sync",
    args: ["drift", "--config", data("default.yaml"), "--from", data("node-in-sync.txt")],
    code: 0,
    file: "drift-in-sync.txt",
  },
  {
    desc: "drift drifted",
    args: ["drift", "--config", data("default.yaml"), "--from", data("node-drifted.save")],
    code: 3,
    file: "drift-drifted.txt",
  },
  {
    desc: "inspect the issue's item-1 node: CNI chain and kube-proxy on the path",
    args: ["inspect", "--from", data("node-item1.save")],
    code: 0,
    file: "inspect-item1.txt",
  },
  {
    desc: "inspect the agent chain alone: no jump to judge",
    args: ["inspect", "--from", data("chain-alone.txt")],
    code: 0,
    file: "inspect-chain-alone.txt",
  },
  {
    desc: "inspect rules that match nothing or only some packets",
    args: ["inspect", "--from", data("node-odd-rules.txt")],
    code: 0,
    file: "inspect-odd-rules.txt",
  },
  {
    desc: "inspect a node with a CNI bridge chain per pod: one line per kind, counted",
    args: ["inspect", "--from", data("node-bridge-pods.txt")],
    code: 0,
    file: "inspect-bridge-pods.txt",
  },
  {
    desc: "drift of a node with a CNI bridge chain per pod: one finding",
    args: ["drift", "--config", data("default.yaml"), "--from", data("node-bridge-pods.txt")],
    code: 3,
    file: "drift-bridge-pods.txt",
  },
  {
    desc: "inspect --json of the item-1 node",
    args: ["inspect", "--from", data("node-item1.save"), "--json"],
    code: 0,
    file: "inspect-item1.json",
  },
  {
    desc: "drift of the item-1 node names the CNI chain",
    args: ["drift", "--config", data("default.yaml"), "--from", data("node-item1.save")],
    code: 3,
    file: "drift-item1.txt",
  },
  {
    desc: "drift of nonMasqueradeCIDRs [0.0.0.0/0] as upstream writes it: in sync",
    args: ["drift", "--config", data("all-cidrs.yaml"), "--from", data("node-all-cidrs.txt")],
    code: 0,
    file: "drift-all-cidrs.txt",
    stderr: "warning: 0.0.0.0/0 matches every destination: no ipv4 traffic will be masqueraded\n",
  },
  {
    desc: "drift of the agent chain alone: no jump missing, a note",
    args: ["drift", "--config", data("default.yaml"), "--from", data("chain-alone.txt")],
    code: 0,
    file: "drift-chain-alone.txt",
  },
  {
    desc: "why: private destination, unmarked packet",
    args: ["why", "10.1.2.3", "--mark", "0", "--from", data("node-in-sync.save")],
    code: 10,
    file: "why-private.txt",
  },
  {
    desc: "why: public destination, unmarked packet",
    args: ["why", "8.8.8.8", "--mark", "0", "--from", data("node-in-sync.save")],
    code: 0,
    file: "why-public.txt",
  },
  {
    desc: "why: kube-proxy's mark decides when it is not given",
    args: ["why", "10.1.2.3", "--from", data("node-in-sync.save")],
    code: 11,
    file: "why-mark.txt",
  },
  {
    desc: "why: destination missing on a drifted node",
    args: ["why", "10.1.2.3", "--mark", "0", "--from", data("node-drifted.save")],
    code: 0,
    file: "why-drifted.txt",
  },
  {
    desc: "why: -S of two chains, kube-proxy's chain not in the input",
    args: ["why", "8.8.8.8", "--from", data("node-in-sync.txt")],
    code: 11,
    file: "why-unread-chain.txt",
  },
  {
    desc: "why: item 1, a destination the agent returns, source not given",
    args: ["why", "10.20.30.40", "--from", data("node-item1.save")],
    code: 11,
    file: "why-item1.txt",
  },
  {
    desc: "why: item 1, a pod in the CNI range",
    args: ["why", "10.20.30.40", "--source", "10.100.64.70", "--from", data("node-item1.save")],
    code: 0,
    file: "why-item1-cni-pod.txt",
  },
  {
    desc: "why --json: item 1, a pod outside the CNI range, unmarked",
    args: [
      "why",
      "10.20.30.40",
      "--source",
      "10.100.65.70",
      "--mark",
      "0",
      "--json",
      "--from",
      data("node-item1.save"),
    ],
    code: 10,
    file: "why-item1-other-pod.json",
  },
  {
    desc: "why: a TCP-only RETURN makes the answer depend on the protocol",
    args: ["why", "8.8.8.8", "--from", data("node-odd-rules.txt")],
    code: 11,
    file: "why-tcp-return.txt",
  },
  {
    desc: "why: an old-style negation explained with what is true",
    args: ["why", "1.1.1.1", "--protocol", "udp", "--from", data("node-odd-rules.txt")],
    code: 10,
    file: "why-negated.txt",
  },
  {
    desc: "why: the agent chain alone answers for the chain",
    args: ["why", "8.8.8.8", "--from", data("chain-alone.txt")],
    code: 11,
    file: "why-chain-alone.txt",
  },
];

describe("ipmasq golden output", () => {
  for (const c of goldenCases) {
    it(c.desc, async () => {
      const r = await run(c.args, c.stdin);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: c.code, stderr: c.stderr ?? "" });
      golden(c.file, r.stdout);
    });
  }
});

describe("ipmasq errors and exit codes", () => {
  it("an invalid config never renders", async () => {
    const r = await run(["render", "--config", data("invalid.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("10.0.0.1/8 is not aligned; did you mean 10.0.0.0/8?");
  });
  it("ipv6 rules need --enable-ipv6", async () => {
    const r = await run(["render", "--config", data("dual-stack.json"), "--family", "ipv6"]);
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toMatch(/--enable-ipv6/);
  });
  it("validate names every error", async () => {
    const r = await run(["validate", "--config", data("invalid.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("error:"))).toEqual([
      "error: 10.0.0.1/8 is not aligned; did you mean 10.0.0.0/8?",
      "error: not-a-cidr is not a valid CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)",
      "error: fc00::/7 is IPv6 but IPv6 is not enabled (agent flag --enable-ipv6)",
      'error: resyncInterval "soon" is not a duration (use e.g. 60s, 5m, 1h30m)',
    ]);
  });
  it("validate: masqueradeCIDRs in both lists, and one that changes nothing", async () => {
    const r = await run(["validate", "--config", data("exceptions-invalid.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").filter((l) => /^(error|warning):/.test(l))).toEqual([
      "warning: masqueradeCIDRs 192.0.2.0/24 is inside no non-masquerade range: traffic to it is masqueraded anyway, so it has no effect",
      "error: 10.0.0.0/8 is in masqueradeCIDRs and in nonMasqueradeCIDRs: a destination must be decided by one list; remove it from one of them",
    ]);
  });
  it("validate passes with warnings on stderr", async () => {
    const r = await run(["validate", "--config", data("warnings.yaml")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid/);
    expect(r.stderr).toContain("warning: 10.0.0.0/8 is listed more than once");
    expect(r.stderr).toContain("warning: 10.1.0.0/16 is inside 10.0.0.0/8 and has no effect");
    expect(r.stderr).toContain(
      'warning: unknown key "nonMasqueradeCidrLimit" is ignored by ip-masq-agent',
    );
  });
  it("validate --json", async () => {
    const r = await run(["validate", "--config", data("invalid.yaml"), "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, config: null });
  });
  it("inspect on an nftables ruleset: each base chain on its own, no jump or agent chain looked for in it", async () => {
    const r = await run(
      ["inspect", "--from", "-", "--backend", "nftables"],
      nftDumpText("kube-proxy-agent"),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/jump from POSTROUTING|chain does not exist|decided before/);
    expect(r.stdout).toContain(
      "ip kube-proxy masquerading rule 1 (kube-proxy) ends this chain without NAT (the other nat postrouting chains still run): pod traffic when mark bit 0x4000 clear",
    );
    expect(r.stdout).toContain(
      "chain inet ip_masq_agent postrouting (priority 100):\ninet ip_masq_agent postrouting (ipv4)\n  path:",
    );
  });

  it("why, drift and inspect refuse `iptables -L` output, saying what to give instead", async () => {
    const listing =
      "Chain IP-MASQ-AGENT (1 references)\ntarget     prot opt source               destination\nRETURN     all  --  0.0.0.0/0            10.0.0.0/8           /* ip-masq-agent */\nMASQUERADE  all  --  0.0.0.0/0            0.0.0.0/0\n";
    for (const args of [
      ["why", "10.1.2.3", "--from", "-"],
      ["drift", "--config", data("default.yaml"), "--from", "-"],
      ["inspect", "--from", "-"],
    ]) {
      const r = await run(args, listing);
      expect(r).toMatchObject({ code: 1, stdout: "" });
      expect(r.stderr).toContain(
        "-: this is `iptables -L` output, which leaves out matches; give `iptables-save -t nat` or `iptables -t nat -S` output instead",
      );
    }
  });
  it("validate refuses a bad --to-ports", async () => {
    const r = await run(["validate", "--config", data("default.yaml"), "--to-ports", "2000-1000"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/first is greater than last/);
  });
  it("drift reads stdin and prints JSON", async () => {
    const r = await run(
      ["drift", "--config", data("default.yaml"), "--from", "-", "--json"],
      readFileSync(data("node-drifted.save"), "utf8"),
    );
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).differences.map((d: { kind: string }) => d.kind)).toEqual([
      "missing-cidr",
      "unexpected-cidr",
      "jump-duplicate",
    ]);
  });
  it("drift with an unreadable file is an error", async () => {
    const r = await run(["drift", "--config", data("default.yaml"), "--from", data("nope.txt")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*nope\.txt: ENOENT/);
  });
  it("why refuses a non-IP", async () => {
    const r = await run(["why", "example.com", "--from", data("node-in-sync.txt")]);
    expect(r).toMatchObject({ code: 1 });
    expect(r.stderr).toMatch(/not an IP address/);
  });
  it("why refuses bad packet fields with the reason", async () => {
    for (const [args, reason] of [
      [["--source", "pod-a"], /source "pod-a" is not an IP address/],
      [["--source", "fd00::1"], /source fd00::1 is ipv6, the destination is ipv4/],
      [["--protocol", "bogus"], /protocol "bogus" is not known/],
      [["--protocol", "icmp", "--dport", "53"], /icmp has no ports/],
      [["--dport", "70000"], /--dport must be a number from 0 to 65535/],
      [["--mark", "-1"], /--mark must be a number/],
    ] as const) {
      const r = await run(["why", "8.8.8.8", ...args, "--from", data("node-in-sync.save")]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(reason);
    }
  });
  /** The codes a command's --help lists under "Exit codes:". */
  const helpCodes = async (command: string) => {
    const r = await run([command, "--help"]);
    expect(r.code).toBe(0);
    const section = r.stdout.split("\nExit codes:\n")[1] ?? "";
    return [...section.matchAll(/^ {2}(\d+) /gm)].map((m) => Number(m[1]));
  };

  const helpCases = [
    { desc: "render: rendered, or invalid/error", input: "render", want: [0, 1] },
    { desc: "validate: valid, or invalid/error", input: "validate", want: [0, 1] },
    { desc: "inspect: shown, or error", input: "inspect", want: [0, 1] },
    { desc: "drift: in sync, drifted, error", input: "drift", want: [0, 3, 1] },
    { desc: "why: masqueraded, not, depends, error", input: "why", want: [0, 10, 11, 1] },
    { desc: "apply: verified, or not", input: "apply", want: [0, 1] },
    { desc: "run: stopped by a signal, or could not start", input: "run", want: [0, 1] },
    { desc: "token: written, or error", input: "token", want: [0, 1] },
  ];
  for (const c of helpCases)
    it(`--help lists the exit codes of ${c.desc}`, async () => {
      expect(await helpCodes(c.input)).toEqual(c.want);
    });

  it("every subcommand's help has its exit codes, and every code a golden case exits with is listed", async () => {
    const program = await run(["--help"]);
    const commands = [...program.stdout.matchAll(/^ {2}([a-z]+) /gm)]
      .map((m) => m[1]!)
      .filter((c) => c !== "help");
    expect(commands.sort()).toEqual(helpCases.map((c) => c.input).sort());
    for (const g of [...goldenCases, ...windowsGolden])
      expect(await helpCodes(g.args[0]!), g.desc).toContain(g.code);
    const help = (await run(["why", "--help"])).stdout;
    expect(help).toMatch(/ {2}11 {2}it depends on the packet.*\n {6}POSTROUTING not in the input/);
  });

  it("needs a source", async () => {
    const r = await run(["inspect"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--from FILE/);
  });
  it("rejects unknown options", async () => {
    const r = await run(["render", "--config", data("default.yaml"), "--bogus"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
  });
  for (const sub of ["render", "validate", "inspect", "drift", "why", "apply", "run", "token"]) {
    it(`${sub} --help, with examples`, async () => {
      const r = await run([sub, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: ipmasq ${sub}`);
      expect(r.stdout).toMatch(new RegExp(`\nExamples:\n(  .*ipmasq ${sub}.*\n)+`));
    });
  }
  it("render without --config renders upstream's defaults", async () => {
    const r = await run(["render"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe((await run(["render", "--config", data("default.yaml")])).stdout);
  });
  it("render without --config follows --nomasq-all-reserved-ranges", async () => {
    const r = await run(["render", "--nomasq-all-reserved-ranges"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("-d 100.64.0.0/10");
    expect(r.stdout).toContain("-d 10.0.0.0/8");
  });
});

// ---------------------------------------------------------------------------------------------
// Upstream's bool flags read as Go's flag package reads them: bare is true, `=VALUE` any of
// strconv.ParseBool's spellings; `--flag VALUE` (this CLI's earlier form) still takes a bool.

describe("upstream's bool flags (Go flag.Bool)", () => {
  const masq = (stdout: string) => stdout.split("\n").find((l) => l.includes("-j MASQUERADE"));
  type Case = {
    desc: string;
    input: string[];
    want: { code: number; randomFully?: boolean; reserved?: boolean; stderr?: RegExp };
  };
  /** A row whose flags render with (`on`) or without --random-fully. */
  const random = (input: string[], on: boolean): Case => ({
    desc: input.join(" "),
    input,
    want: { code: 0, randomFully: on },
  });
  const cases: Case[] = [
    { desc: "the default", input: [], want: { code: 0, randomFully: true } },
    random(["--random-fully"], true),
    random(["--random-fully", "--masq-chain", "X"], true),
    random(["--random-fully=false"], false),
    random(["--random-fully=true"], true),
    random(["--random-fully", "false"], false),
    ...["0", "f", "F", "FALSE", "False"].map((v) => random([`--random-fully=${v}`], false)),
    ...["1", "t", "T", "TRUE", "True"].map((v) =>
      random(["--random-fully=false", `--random-fully=${v}`], true),
    ),
    {
      desc: "--nomasq-all-reserved-ranges bare, last",
      input: ["--nomasq-all-reserved-ranges"],
      want: { code: 0, reserved: true },
    },
    {
      desc: "--nomasq-all-reserved-ranges=false",
      input: ["--nomasq-all-reserved-ranges=false"],
      want: { code: 0, reserved: false },
    },
    {
      desc: "--random-fully=maybe",
      input: ["--random-fully=maybe"],
      want: { code: 1, stderr: /--random-fully.*expected true or false, got "maybe"/ },
    },
    {
      desc: "--random-fully= (empty, as Go refuses it)",
      input: ["--random-fully="],
      want: { code: 1, stderr: /expected true or false, got ""/ },
    },
  ];
  for (const c of cases)
    it(`render --with-jump ${c.desc}`, async () => {
      const r = await run(["render", "--with-jump", ...c.input]);
      expect(r.code, r.stderr).toBe(c.want.code);
      if (c.want.stderr) expect(r.stderr).toMatch(c.want.stderr);
      if (c.want.randomFully !== undefined)
        expect(masq(r.stdout)?.endsWith("--random-fully")).toBe(c.want.randomFully);
      if (c.want.reserved !== undefined)
        expect(r.stdout.includes("-d 100.64.0.0/10")).toBe(c.want.reserved);
    });

  it("a bare bool flag does not take the next word: why --enable-ipv6 ADDRESS", async () => {
    const args = ["10.1.2.3", "--mark", "0", "--from", data("node-in-sync.save")];
    const bare = await run(["why", "--enable-ipv6", ...args]);
    const given = await run(["why", "--enable-ipv6=true", ...args]);
    // 10: the address keeps its source (why-private.txt), read as the address, not as a bool.
    expect([bare.code, bare.stderr]).toEqual([10, ""]);
    expect(bare).toEqual(given);
  });
});

// ---------------------------------------------------------------------------------------------
// Windows nodes: --windows-cni FILE

/** The fixtures' directory differs between machines. */
const portable = (text: string) =>
  text.split(CNI).join("<cni>").split(join(here, "testdata")).join("<testdata>");

const windowsGolden: { desc: string; args: string[]; code: number; file: string }[] = [
  {
    desc: "inspect win-bridge (HNS v1 EndpointPolicy)",
    args: ["inspect", "--windows-cni", cni("win-bridge-v1.conf")],
    code: 0,
    file: "windows-inspect-win-bridge.txt",
  },
  {
    desc: "inspect flannel/win-overlay conflist (HNS v2 Settings.Exceptions)",
    args: ["inspect", "--windows-cni", cni("flannel-win-overlay.conflist")],
    code: 0,
    file: "windows-inspect-flannel-overlay.txt",
  },
  {
    desc: "inspect dual-stack sdnbridge (IPv6 list reported, not managed)",
    args: ["inspect", "--windows-cni", cni("sdnbridge-dualstack.conf")],
    code: 0,
    file: "windows-inspect-dualstack.txt",
  },
  {
    desc: "inspect a config without OutBoundNAT policy",
    args: ["inspect", "--windows-cni", cni("win-overlay-no-policy.conf")],
    code: 0,
    file: "windows-inspect-no-policy.txt",
  },
  {
    desc: "inspect --json",
    args: ["inspect", "--windows-cni", cni("calico-windows.conflist"), "--json"],
    code: 0,
    file: "windows-inspect-calico.json",
  },
  {
    desc: "inspect entries HNS reads leniently, and one it cannot read",
    args: ["inspect", "--windows-cni", data("cni-odd-entries.conf")],
    code: 0,
    file: "windows-inspect-odd-entries.txt",
  },
  {
    desc: "drift of entries HNS reads leniently, and one it cannot read",
    args: [
      "drift",
      "--config",
      data("default.yaml"),
      "--windows-cni",
      data("cni-odd-entries.conf"),
    ],
    code: 3,
    file: "windows-drift-odd-entries.txt",
  },
  {
    desc: "drift in sync (other order is cosmetic)",
    args: [
      "drift",
      "--config",
      data("windows-bridge.yaml"),
      "--windows-cni",
      cni("win-bridge-v1.conf"),
    ],
    code: 0,
    file: "windows-drift-in-sync.txt",
  },
  {
    desc: "drift drifted",
    args: ["drift", "--config", data("default.yaml"), "--windows-cni", cni("win-bridge-v1.conf")],
    code: 3,
    file: "windows-drift-drifted.txt",
  },
  {
    desc: "drift against a config without OutBoundNAT policy",
    args: [
      "drift",
      "--config",
      data("default.yaml"),
      "--windows-cni",
      cni("win-overlay-no-policy.conf"),
    ],
    code: 3,
    file: "windows-drift-no-policy.txt",
  },
];

describe("ipmasq --windows-cni golden output", () => {
  for (const c of windowsGolden) {
    it(c.desc, async () => {
      const r = await run(c.args);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: c.code, stderr: "" });
      golden(c.file, portable(r.stdout));
    });
  }
});

describe("ipmasq --windows-cni", () => {
  const dirs: string[] = [];
  afterEach(() => {
    while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
  });
  const copyOf = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), "imr-cli-win-"));
    dirs.push(dir);
    copyFileSync(cni(name), join(dir, name));
    return join(dir, name);
  };

  it("apply rewrites the list, keeps a backup, then finds it in place; drift agrees", async () => {
    const path = copyOf("flannel-win-overlay.conflist");
    const args = ["--config", data("default.yaml"), "--windows-cni", path];
    expect((await run(["drift", ...args])).code).toBe(3);
    const r = await run(["apply", ...args]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(
      /^applied and verified \(ExceptionList rewritten; previous file kept at .*flannel-win-overlay\.conflist\.ipmasq-backup\) in \d+ ms\n$/,
    );
    expect(readFileSync(`${path}.ipmasq-backup`)).toEqual(
      readFileSync(cni("flannel-win-overlay.conflist")),
    );
    expect(await run(["drift", ...args])).toMatchObject({ code: 0, stdout: "in sync\n" });
    const mtime = statSync(path).mtimeMs;
    const again = await run(["apply", ...args, "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, changed: false, rolledBack: false });
    expect(statSync(path).mtimeMs).toBe(mtime);
  });

  it("apply refuses a file without OutBoundNAT policy and an unparsable one (exit 1, untouched)", async () => {
    for (const [name, error] of [
      ["win-overlay-no-policy.conf", /no OutBoundNAT exception list to rewrite/],
      ["azure-vnet-missing-comma.conflist", /not valid JSON at line 57, column 17/],
    ] as const) {
      const path = copyOf(name);
      const before = readFileSync(path);
      const r = await run(["apply", "--config", data("default.yaml"), "--windows-cni", path]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(error);
      expect(r.stderr).toMatch(/the file was not touched/);
      expect(readFileSync(path)).toEqual(before);
      expect(readdirSync(join(path, ".."))).toEqual([name]);
    }
  });

  it("apply refuses an invalid config", async () => {
    const path = copyOf("win-bridge-v1.conf");
    const r = await run(["apply", "--config", data("invalid.yaml"), "--windows-cni", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid config/);
    expect(readFileSync(path)).toEqual(readFileSync(cni("win-bridge-v1.conf")));
  });

  it("inspect and drift of an unparsable or missing file are errors (exit 1)", async () => {
    const bad = cni("azure-vnet-missing-comma.conflist");
    for (const args of [
      ["inspect", "--windows-cni", bad],
      ["drift", "--config", data("default.yaml"), "--windows-cni", bad],
    ]) {
      const r = await run(args);
      expect(r).toMatchObject({ code: 1, stdout: "" });
      expect(portable(r.stderr)).toBe(
        "cannot parse <cni>/azure-vnet-missing-comma.conflist: not valid JSON at line 57, column 17: expected ',' (missing comma?)\n",
      );
    }
    const r = await run(["inspect", "--windows-cni", cni("nope.conf")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*nope\.conf: ENOENT/);
  });

  it("cannot be combined with --netns or --from", async () => {
    const f = cni("win-bridge-v1.conf");
    for (const args of [
      ["inspect", "--windows-cni", f, "--from", data("node-in-sync.txt")],
      ["drift", "--config", data("default.yaml"), "--windows-cni", f, "--netns", "x"],
      ["apply", "--config", data("default.yaml"), "--windows-cni", f, "--netns", "x"],
    ]) {
      const r = await run(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^--windows-cni reads a Windows CNI config and cannot be combined with --(from|netns) \(iptables rules\)\n$/,
      );
    }
  });
});

describe("ipmasq token", () => {
  const SECRET = "Zq0m3Lr9Yx2Tc7Vb5Nk1Wp8Hs4Dg6Fj0Qa2Ue9Ry3Io";
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ipmasq-token-"));
    writeFileSync(join(dir, "reporter-token"), `${SECRET}\n`, { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const tokenOf = (node: string, ...more: string[]) =>
    run(["token", "--node", node, "--secret-file", join(dir, "reporter-token"), ...more]);

  it("prints a token the dashboard accepts for that node only", async () => {
    const r = await tokenOf("node-a");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(verifyNodeToken(SECRET, r.stdout.trim())).toBe("node-a");
    const fromStdin = await run(["token", "--node", "node-a", "--secret-file", "-"], SECRET);
    expect(fromStdin.stdout).toBe(r.stdout);
  });

  it("writes the token to a 0600 file with --out", async () => {
    const out = join(dir, "node-a.token");
    const r = await tokenOf("node-a", "--out", out);
    expect(r).toMatchObject({ code: 0, stdout: "" });
    expect(verifyNodeToken(SECRET, readFileSync(out, "utf8").trim())).toBe("node-a");
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  const errors: { desc: string; args: () => string[]; stdin?: string; want: RegExp }[] = [
    {
      desc: "a name that is not a node name",
      args: () => ["token", "--node", "Node_A", "--secret-file", join(dir, "reporter-token")],
      want: /"Node_A" is not a node name/,
    },
    {
      desc: "a missing secret file",
      args: () => ["token", "--node", "a", "--secret-file", join(dir, "nope")],
      want: /cannot read .*nope: ENOENT/,
    },
    {
      desc: "an empty secret",
      args: () => ["token", "--node", "a", "--secret-file", "-"],
      stdin: "\n",
      want: /holds no secret/,
    },
  ];
  it.each(errors)("fails with exit 1 on $desc", async ({ args, stdin, want }) => {
    const r = await run(args(), stdin);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(want);
  });
});

describe("break6: ipmasq run refuses a bad option with its reason on stderr", () => {
  const base = ["run", "--node", "n1", "--dashboard", "wss://127.0.0.1:1"];
  const dir = mkdtempSync(join(tmpdir(), "b6-ca-"));
  const garbage = join(dir, "garbage.pem");
  writeFileSync(garbage, "not a certificate\n");
  const cases = [
    { args: ["--liveness-ping-idle", "2"], want: /--liveness-ping-idle .*2 is outside 0\.5s–60s/ },
    {
      args: ["--liveness-ping-idle", "10s", "--liveness-dead-after", "10.5s"],
      want: /--liveness-dead-after .*must exceed/,
    },
    { args: ["--liveness-hedge", "0"], want: /--liveness-hedge/ },
    { args: ["--dashboard-ca", dir], want: /--dashboard-ca .*EISDIR/ },
    { args: ["--dashboard-ca", garbage], want: /--dashboard-ca .*no PEM certificate/ },
    { args: ["--dashboard-ca", join(dir, "missing.pem")], want: /--dashboard-ca .*ENOENT/ },
    { args: ["--poll-interval", "1ms"], want: /--poll-interval must be at least 100ms/ },
  ];
  it("an empty environment variable is unset (its default), not a value", async () => {
    const saved = { chain: process.env.IPMASQ_MASQ_CHAIN, fully: process.env.IPMASQ_RANDOM_FULLY };
    try {
      process.env.IPMASQ_MASQ_CHAIN = "";
      process.env.IPMASQ_RANDOM_FULLY = " ";
      const r = await run(["render", "--config", data("default.yaml")]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/IP-MASQ-AGENT .*--random-fully/);
    } finally {
      for (const [k, v] of [
        ["IPMASQ_MASQ_CHAIN", saved.chain],
        ["IPMASQ_RANDOM_FULLY", saved.fully],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });
  it("an agent flag refused by its schema in another command (render) is said too", async () => {
    const r = await run(["render", "--config", data("default.yaml"), "--masq-chain", "bad chain!"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid agent flags/);
  });
  it.each(cases)("$args", async ({ args, want }) => {
    const r = await run([...base, ...args]);
    // It exited 1 with nothing on stderr: the reason was thrown as commander's
    // InvalidArgumentError from the action, which runCli took for one commander had printed.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(want);
  });
});
