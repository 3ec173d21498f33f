// `--config DIR` of render, drift, apply and validate: the directory's ip-masq* files merged as
// ip-masq-agent-v2 merges them; a conflict or no config file is an error naming why.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli } from "../../test/helpers/run-cli.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imr-cli-dir-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function withFiles(command: string, files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return cli([command, "--config", dir]);
}

describe("--config DIR", () => {
  const cases: {
    desc: string;
    input: Record<string, string>;
    want: { code: number; rules?: string[]; error?: RegExp };
  }[] = [
    {
      desc: "the ip-masq* files are merged: one rule per CIDR of any of them",
      input: {
        "ip-masq-agent": "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
        "ip-masq-agent-reconciled": "nonMasqueradeCIDRs: [100.64.0.0/10]\nmasqLinkLocal: true\n",
      },
      want: { code: 0, rules: ["-d 10.0.0.0/8", "-d 100.64.0.0/10"] },
    },
    {
      desc: "files that conflict are refused, naming the conflict",
      input: { "ip-masq-a": "resyncInterval: 5s\n", "ip-masq-b": "resyncInterval: 10s\n" },
      want: { code: 1, error: /the files conflict: resyncInterval differs between sources/ },
    },
    {
      desc: "a directory without an ip-masq* file is an error",
      input: { "config.yaml": "{}" },
      want: { code: 1, error: /no ip-masq\* config file in the directory/ },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const r = await withFiles("render", input);
    expect(r.code).toBe(want.code);
    for (const rule of want.rules ?? []) expect(r.stdout).toContain(rule);
    if (want.rules) expect(r.stdout).not.toContain("169.254.0.0/16");
    if (want.error) expect(r.stderr).toMatch(want.error);
  });
});

describe("validate --config DIR", () => {
  const cases: {
    desc: string;
    input: Record<string, string>;
    want: { code: number; stdout?: RegExp; error?: RegExp };
  }[] = [
    {
      desc: "the merged files are valid",
      input: {
        "ip-masq-agent": "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
        "ip-masq-agent-reconciled": "nonMasqueradeCIDRs: [100.64.0.0/10]\n",
      },
      want: { code: 0, stdout: /: valid$/m },
    },
    {
      desc: "a bad file is named",
      input: { "ip-masq-agent": "nonMasqueradeCIDRs: [10.0.0.1/8]\n" },
      want: { code: 1, error: /ip-masq-agent.*10\.0\.0\.1\/8 is not aligned/ },
    },
    {
      desc: "files that conflict are invalid, naming the conflict",
      input: { "ip-masq-a": "resyncInterval: 5s\n", "ip-masq-b": "resyncInterval: 10s\n" },
      want: { code: 1, error: /resyncInterval differs between sources/ },
    },
    {
      desc: "a directory without an ip-masq* file is an error",
      input: { "config.yaml": "{}" },
      want: { code: 1, error: /no ip-masq\* config file in the directory/ },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const r = await withFiles("validate", input);
    expect(r.code).toBe(want.code);
    if (want.stdout) expect(r.stdout).toMatch(want.stdout);
    if (want.error) expect(r.stderr).toMatch(want.error);
  });
});
