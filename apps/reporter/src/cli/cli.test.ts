// The ipmasq CLI in-process, against golden files (UPDATE_GOLDEN=1 rewrites them).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CliIO } from "./io.js";
import { runCli } from "./program.js";

const here = import.meta.dirname;
const data = (f: string) => join(here, "testdata", f);

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

const goldenCases: { desc: string; args: string[]; stdin?: string; code: number; file: string }[] =
  [
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
      desc: "why: private destination",
      args: ["why", "10.1.2.3", "--from", data("node-in-sync.txt")],
      code: 0,
      file: "why-private.txt",
    },
    {
      desc: "why: public destination",
      args: ["why", "8.8.8.8", "--from", data("node-in-sync.txt")],
      code: 0,
      file: "why-public.txt",
    },
    {
      desc: "why: destination missing on a drifted node",
      args: ["why", "10.1.2.3", "--from", data("node-drifted.save")],
      code: 0,
      file: "why-drifted.txt",
    },
  ];

describe("ipmasq golden output", () => {
  for (const c of goldenCases) {
    it(c.desc, async () => {
      const r = await run(c.args, c.stdin);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: c.code, stderr: "" });
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
  for (const sub of ["render", "validate", "inspect", "drift", "why", "apply", "run"]) {
    it(`${sub} --help`, async () => {
      const r = await run([sub, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: ipmasq ${sub}`);
    });
  }
});
