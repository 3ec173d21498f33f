import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLAGS, MAX_CONFIG_SOURCES } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readConfigDir } from "./config-dir.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imr-cdir-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("readConfigDir", () => {
  const cases: {
    desc: string;
    input: Record<string, string | null>;
    want: { cidrs?: string[]; files?: string[]; reason?: RegExp; none?: true };
  }[] = [
    {
      desc: "no ip-masq* file: nothing (the node keeps what it has)",
      input: { other: "nonMasqueradeCIDRs: [10.0.0.0/8]" },
      want: { none: true },
    },
    {
      desc: "files of the prefix merged in name order; others and ConfigMap '..' entries ignored",
      input: {
        "ip-masq-b": "nonMasqueradeCIDRs: [100.64.0.0/10]",
        "ip-masq-agent": "nonMasqueradeCIDRs: [10.0.0.0/8]",
        "..data": null,
        README: "x",
      },
      want: { cidrs: ["10.0.0.0/8", "100.64.0.0/10"], files: ["ip-masq-agent", "ip-masq-b"] },
    },
    {
      desc: "the prefix is v2's `ip-masq`, without a dash",
      input: { "ip-masqueraded": "nonMasqueradeCIDRs: [192.0.2.0/24]" },
      want: { cidrs: ["192.0.2.0/24"] },
    },
    {
      desc: "one invalid file refuses the whole directory, naming the file",
      input: { "ip-masq-agent": "{}", "ip-masq-x": "nonMasqueradeCIDRs: [10.0.0.1/8]" },
      want: { reason: /file ip-masq-x is invalid: 10\.0\.0\.1\/8 is not aligned/ },
    },
    {
      desc: "a directory of the prefix cannot be read: refused",
      input: { "ip-masq-agent": "{}", "ip-masq-dir": null },
      want: { reason: /cannot read ip-masq-dir: EISDIR/ },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    for (const [name, text] of Object.entries(input))
      await (text === null ? mkdir(join(dir, name)) : writeFile(join(dir, name), text));
    const r = await readConfigDir(dir, DEFAULT_FLAGS);
    if (want.none) return expect(r).toBeUndefined();
    if (want.reason) return expect(r?.ok === false && r.reason).toMatch(want.reason);
    expect(r?.ok && r.config.nonMasqueradeCIDRs).toEqual(want.cidrs);
    if (want.files) expect(r?.ok && r.files).toEqual(want.files);
  });

  it("more files than the merge takes are refused without reading them", async () => {
    for (let i = 0; i <= MAX_CONFIG_SOURCES; i++) await writeFile(join(dir, `ip-masq-${i}`), "{}");
    const r = await readConfigDir(dir, DEFAULT_FLAGS);
    expect(r?.ok === false && r.reason).toMatch(/more than 64 ip-masq\* files/);
  });
});
