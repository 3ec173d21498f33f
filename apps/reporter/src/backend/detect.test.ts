import type { IptablesBackend } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { type FakeTables, fakeNode } from "../../test/helpers/fake-iptables.js";
import { type BackendProbe, chooseBackends, legacyTableNames, probeBackend } from "./detect.js";

const AGENT = "IP-MASQ-AGENT";
const counts = (
  rules: number,
  postrouting = rules,
  agentChain = false,
  agentJump = agentChain && postrouting > 0,
) => ({ rules, postrouting, agentChain, agentJump });
const probe = (
  backend: BackendProbe["backend"],
  over: Partial<BackendProbe> = {},
): BackendProbe => ({
  backend,
  suffix: backend === "nf_tables" ? "-nft" : "-legacy",
  hint: false,
  nat: {},
  ...over,
});

describe("chooseBackends (as iptables-wrappers decides)", () => {
  const cases: {
    desc: string;
    input: { probes: BackendProbe[]; forced?: IptablesBackend };
    want: { primary: string; read: string[]; reason: RegExp };
  }[] = [
    {
      desc: "an empty node: nf_tables",
      input: { probes: [probe("nf_tables"), probe("legacy")] },
      want: {
        primary: "nf_tables",
        read: ["nf_tables"],
        reason: /0 nat rules in iptables-legacy, 0 in/,
      },
    },
    {
      // A new user's find: `iptables-legacy -S` once created empty legacy tables; a MASQUERADE
      // added there afterwards acted on packets while nothing read legacy.
      desc: "nf_tables node whose legacy nat table exists but is empty: legacy is read too",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(30, 2, true) } }),
          probe("legacy", { nat: { ipv4: counts(0) } }),
        ],
      },
      want: {
        primary: "nf_tables",
        read: ["nf_tables", "legacy"],
        reason: /the agent's own chain is in iptables-nft/,
      },
    },
    {
      desc: "issue 11 item 5: kube-proxy and the agent only in legacy",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(0) } }),
          probe("legacy", { nat: { ipv4: counts(2, 2, true) } }),
        ],
      },
      // nf_tables' empty nat table is read too: a rule added there later acts at once.
      want: {
        primary: "legacy",
        read: ["legacy", "nf_tables"],
        reason: /the agent's own chain is in iptables-legacy/,
      },
    },
    {
      desc: "the kubelet's hint in nf_tables wins over more legacy rules",
      input: {
        probes: [
          probe("nf_tables", { hint: true, nat: { ipv4: counts(1) } }),
          probe("legacy", { nat: { ipv4: counts(40) } }),
        ],
      },
      want: {
        primary: "nf_tables",
        read: ["nf_tables", "legacy"],
        reason: /hint chain is in iptables-nft/,
      },
    },
    {
      desc: "the hint in legacy wins over more nf_tables rules",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(9) } }),
          probe("legacy", { hint: true, nat: { ipv4: counts(3) } }),
        ],
      },
      want: {
        primary: "legacy",
        read: ["legacy", "nf_tables"],
        reason: /hint chain is in iptables-legacy/,
      },
    },
    {
      desc: "a tie goes to nf_tables",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(2) } }),
          probe("legacy", { nat: { ipv4: counts(2) } }),
        ],
      },
      want: {
        primary: "nf_tables",
        read: ["nf_tables", "legacy"],
        reason: /2 nat rules in iptables-legacy, 2 in/,
      },
    },
    {
      desc: "a legacy agent chain with no jump is still read (a second copy must not be made)",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(3) } }),
          probe("legacy", { nat: { ipv4: counts(0, 0, true) } }),
        ],
      },
      want: { primary: "nf_tables", read: ["nf_tables", "legacy"], reason: /3 in/ },
    },
    {
      desc: "an empty nat table of the other backend is still read (rules may be added to it)",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(0) } }),
          probe("legacy", { nat: { ipv4: counts(1, 0) } }),
        ],
      },
      want: {
        primary: "legacy",
        read: ["legacy", "nf_tables"],
        reason: /1 nat rules in iptables-legacy/,
      },
    },
    {
      desc: "only one backend installed",
      input: { probes: [probe("nf_tables", { suffix: undefined }), probe("legacy")] },
      want: { primary: "legacy", read: ["legacy"], reason: /only iptables-legacy is installed/ },
    },
    {
      // A new user's find: two hand-added legacy POSTROUTING rules outnumbered the one jump to
      // the agent's chain in nf_tables, the reporter wrote to legacy and the node went to Error.
      desc: "the agent's chain decides over rule counts: two hand-added legacy rules",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(1, 1, true) } }),
          probe("legacy", { nat: { ipv4: counts(2) } }),
        ],
      },
      want: {
        primary: "nf_tables",
        read: ["nf_tables", "legacy"],
        reason: /the agent's own chain is in iptables-nft/,
      },
    },
    {
      desc: "the agent's chain in legacy only: legacy, though nf_tables holds more rules",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(5) } }),
          probe("legacy", { nat: { ipv4: counts(1, 1, true) } }),
        ],
      },
      want: {
        primary: "legacy",
        read: ["legacy", "nf_tables"],
        reason: /the agent's own chain is in iptables-legacy/,
      },
    },
    {
      desc: "the agent's chain in both: rule counts decide",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(1, 1, true) } }),
          probe("legacy", { nat: { ipv4: counts(3, 3, true) } }),
        ],
      },
      want: { primary: "legacy", read: ["legacy", "nf_tables"], reason: /3 nat rules in/ },
    },
    {
      desc: "the kubelet's hint still comes first",
      input: {
        probes: [
          probe("nf_tables", { nat: { ipv4: counts(1, 1, true) } }),
          probe("legacy", { hint: true, nat: { ipv4: counts(2) } }),
        ],
      },
      want: { primary: "legacy", read: ["legacy", "nf_tables"], reason: /hint chain/ },
    },
    {
      desc: "--iptables nft forces the primary, the other is still read",
      input: {
        probes: [probe("nf_tables"), probe("legacy", { nat: { ipv4: counts(2) } })],
        forced: "nf_tables",
      },
      want: { primary: "nf_tables", read: ["nf_tables", "legacy"], reason: /--iptables nft/ },
    },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const choice = chooseBackends(c.input.probes, ["ipv4"], c.input.forced);
      expect(choice.primary).toBe(c.want.primary);
      expect(choice.read.ipv4).toEqual(c.want.read);
      expect(choice.reason).toMatch(c.want.reason);
    });
  }
  it("refuses a node where neither backend runs", () => {
    expect(() =>
      chooseBackends(
        [probe("nf_tables", { suffix: undefined }), probe("legacy", { suffix: undefined })],
        ["ipv4"],
      ),
    ).toThrow(/neither/);
  });
});

describe("legacy table names", () => {
  it("reads /proc/net/ip_tables_names", () => {
    expect(legacyTableNames("nat\nfilter\n\n")).toEqual(new Set(["nat", "filter"]));
  });
});

describe("probeBackend", () => {
  const NFT = "iptables v1.8.9 (nf_tables)";
  const LEGACY = "iptables v1.8.9 (legacy)";
  const legacyItem5: FakeTables = {
    version: LEGACY,
    procTables: ["nat"],
    tables: {
      nat: {
        PREROUTING: ["-P PREROUTING ACCEPT"],
        OUTPUT: ["-P OUTPUT ACCEPT"],
        POSTROUTING: [
          "-P POSTROUTING ACCEPT",
          "-A POSTROUTING -j KUBE-POSTROUTING",
          `-A POSTROUTING -j ${AGENT}`,
        ],
        [AGENT]: [`-N ${AGENT}`],
      },
    },
  };
  const emptyNft: FakeTables = { version: NFT, tables: {} };

  it("counts the nat built-in rules and finds the agent chain", async () => {
    const node = fakeNode({ nft: emptyNft, legacy: legacyItem5 });
    expect(await probeBackend(node.run, "legacy", ["ipv4"], AGENT)).toEqual({
      backend: "legacy",
      suffix: "-legacy",
      version: "v1.8.9",
      hint: false,
      nat: { ipv4: { rules: 2, postrouting: 2, agentChain: true, agentJump: true } },
      tables: ["nat"],
    });
  });

  it("never reads a legacy table the kernel does not hold (reading would create it)", async () => {
    const node = fakeNode({ nft: emptyNft, legacy: { ...legacyItem5, procTables: [] } });
    const p = await probeBackend(node.run, "legacy", ["ipv4"], AGENT);
    expect(p.nat).toEqual({});
    expect(node.calls.map((c) => c.join(" "))).toEqual([
      "iptables-legacy -V",
      "cat /proc/net/ip_tables_names",
    ]);
  });

  it("finds the kubelet's hint in nf_tables mangle", async () => {
    const nft: FakeTables = {
      version: NFT,
      tables: { mangle: { "KUBE-IPTABLES-HINT": ["-N KUBE-IPTABLES-HINT"] } },
    };
    const p = await probeBackend(
      fakeNode({ nft, legacy: legacyItem5 }).run,
      "nf_tables",
      ["ipv4"],
      AGENT,
    );
    expect(p).toMatchObject({ hint: true, suffix: "-nft" });
  });

  it("uses plain iptables when it is the only program of that backend", async () => {
    const plainNft = fakeNode({ nft: emptyNft, legacy: legacyItem5, plain: "nft" });
    // Only plain iptables answers -V, and it says nf_tables.
    const onlyPlain = (argv: string[], input?: string) =>
      argv[0]!.includes("-nft") || argv[0]!.includes("-legacy")
        ? Promise.resolve({ code: 127, stdout: "", stderr: "ENOENT", timedOut: false })
        : plainNft.run(argv, input);
    const p = await probeBackend(onlyPlain, "nf_tables", ["ipv4"], AGENT);
    expect(p).toMatchObject({ suffix: "", version: "v1.8.9" });
    expect((await probeBackend(onlyPlain, "legacy", ["ipv4"], AGENT)).suffix).toBeUndefined();
  });
});
