import { chainS, JUMP, postroutingS } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import { assessLinux, assessWindows, evaluateSnapshots } from "./assess.js";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import type { WindowsSnapshot } from "./protocol.js";
import { snapshotOf } from "./snapshot.js";

const config = defaultConfig();

describe("assessLinux", () => {
  it("judges every managed family", () => {
    const flags = { ...DEFAULT_FLAGS, enableIPv6: true };
    const a = assessLinux(config, flags, [
      snapshotOf({ family: "ipv4", chain: chainS(), postrouting: postroutingS() }),
      snapshotOf({ family: "ipv6", chain: null, postrouting: ["-P POSTROUTING ACCEPT"] }),
    ]);
    expect(a.families.map((f) => f.desired.family)).toEqual(["ipv4", "ipv6"]);
    expect(a.report.status).toBe("drifted");
    expect(a.report.differences.map((d) => `${d.scope}:${d.kind}`)).toEqual(["ipv6:chain-missing"]);
  });
  it("a read error is critical", () => {
    const a = assessLinux(config, DEFAULT_FLAGS, [
      snapshotOf({
        family: "ipv4",
        chain: null,
        postrouting: [],
        readError: "iptables: permission denied",
      }),
    ]);
    expect(a.report.differences[0]).toMatchObject({ kind: "unreadable", severity: "critical" });
  });

  it("judges every chain the reporter read, and passes on what it did not read", () => {
    const snap = snapshotOf({
      family: "ipv4",
      chain: chainS(),
      postrouting: postroutingS(),
      backend: "legacy",
    });
    snap.chains.splice(1, 0, {
      name: "KUBE-POSTROUTING",
      lines: ["-N KUBE-POSTROUTING", "-A KUBE-POSTROUTING -j CNI-0a1b"],
    });
    snap.unread = ["CNI-0a1b"];
    snap.unreadNote = "more than 1 chain";
    const [f] = assessLinux(config, DEFAULT_FLAGS, [snap]).families;
    expect(f).toMatchObject({
      backend: "legacy",
      unread: ["CNI-0a1b"],
      unreadNote: "more than 1 chain",
    });
    expect(f?.observed.chainExists).toBe(true);
    expect(f?.differences).toEqual([]);
  });
});

describe("assessLinux with two iptables backends", () => {
  // Item 5 of issue 11: kube-proxy and the agent in iptables-legacy; nf_tables may hold a copy.
  const legacy = snapshotOf({
    family: "ipv4",
    chain: chainS(),
    postrouting: postroutingS(),
    backend: "legacy",
  });
  const nftWith = (chain: string[] | null, jump: boolean) =>
    snapshotOf({
      family: "ipv4",
      chain,
      postrouting: postroutingS(jump ? [JUMP] : []),
      backend: "nf_tables",
    });
  const cases: {
    desc: string;
    input: ReturnType<typeof snapshotOf>[];
    want: { backend: string; kinds: string[]; summary?: string };
  }[] = [
    {
      desc: "the agent's chain acting in both is a critical conflict",
      input: [legacy, nftWith(chainS(["10.0.0.0/8"]), true)],
      want: {
        backend: "legacy",
        kinds: ["critical:backend-conflict"],
        summary: "conflict with the other iptables backend",
      },
    },
    {
      desc: "a leftover chain nothing jumps to is a warning",
      input: [legacy, nftWith(["-N IP-MASQ-AGENT"], false)],
      want: { backend: "legacy", kinds: ["warning:backend-conflict"] },
    },
    {
      desc: "the chain is judged in the backend that has it, whichever comes first",
      input: [nftWith(null, false), legacy],
      want: { backend: "legacy", kinds: [] },
    },
    {
      desc: "another backend holding only other rules is no conflict",
      input: [legacy, nftWith(null, false)],
      want: { backend: "legacy", kinds: [] },
    },
    {
      // A new user's find: a MASQUERADE added by hand to the other backend's POSTROUTING.
      desc: "the other backend masquerading traffic the config keeps is a critical conflict",
      input: [
        legacy,
        snapshotOf({
          family: "ipv4",
          chain: null,
          postrouting: postroutingS(["-A POSTROUTING -d 10.50.0.0/16 -j MASQUERADE"]),
          backend: "nf_tables",
        }),
      ],
      // Its summary names no agent chain there: the other backend holds none.
      want: {
        backend: "legacy",
        kinds: ["critical:backend-conflict"],
        summary: "conflict with the other iptables backend",
      },
    },
    {
      desc: "the other backend masquerading only what the config masquerades too is no difference",
      input: [
        legacy,
        snapshotOf({
          family: "ipv4",
          chain: null,
          postrouting: postroutingS(["-A POSTROUTING -d 203.0.113.0/24 -j MASQUERADE"]),
          backend: "nf_tables",
        }),
      ],
      want: { backend: "legacy", kinds: [] },
    },
    {
      desc: "another backend that could not be read is critical",
      input: [legacy, { ...nftWith(null, false), readError: "nft: permission denied" }],
      want: { backend: "legacy", kinds: ["critical:unreadable"] },
    },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const a = assessLinux(config, DEFAULT_FLAGS, c.input);
      expect(a.families[0]?.backend).toBe(c.want.backend);
      expect(a.report.differences.map((d) => `${d.severity}:${d.kind}`)).toEqual(c.want.kinds);
      if (c.want.summary) expect(a.report.summary).toBe(c.want.summary);
    });
  }

  it("names the other backend's rule and says a resync does not remove it", () => {
    const other = snapshotOf({
      family: "ipv4",
      chain: null,
      postrouting: postroutingS(["-A POSTROUTING -d 10.50.0.0/16 -j MASQUERADE"]),
      backend: "nf_tables",
    });
    const d = assessLinux(config, DEFAULT_FLAGS, [legacy, other]).report.differences[0];
    expect(d?.message).toMatch(/POSTROUTING rule 1 .*in iptables-nft \(nf_tables\) masquerades/);
    expect(d?.impact).toMatch(/to 10\.0\.0\.0\/8 except .*|to 10\.50\.0\.0\/16/);
    expect(d?.impact).toMatch(/a resync does not remove rules of another backend/);
  });

  it("says that both chains act on packets", () => {
    const a = assessLinux(config, DEFAULT_FLAGS, [legacy, nftWith(chainS(), true)]);
    expect(a.report.differences[0]).toMatchObject({
      message:
        "IP-MASQ-AGENT exists in both iptables-legacy and iptables-nft (nf_tables), and POSTROUTING jumps to it in both",
      impact: expect.stringMatching(/^both chains act on packets/),
    });
  });
});

describe("assessWindows", () => {
  const pointer = "/plugins/0/policies/0/value/Settings/Exceptions";
  const snap = (exceptions: string[], readError?: string): WindowsSnapshot => ({
    path: "C:/k/cni/config/10-bridge.conf",
    lists: readError ? [] : [{ pointer, form: "OutBoundNAT", exceptions }],
    ...(readError ? { readError } : {}),
  });
  const want = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

  it("judges the exception lists with windowsDrift and says what the list should hold", () => {
    const good = assessWindows(config, snap(want));
    expect(good).toMatchObject({ differences: [], desired: want, report: { status: "in-sync" } });
    const bad = assessWindows(config, snap(["10.0.0.0/8", "100.64.0.0/10"]));
    expect(bad.report.status).toBe("drifted");
    expect(bad.differences).toBe(bad.report.differences);
    expect(bad.differences.map((d) => `${d.kind}:${d.cidr}`)).toEqual([
      "missing-cidr:172.16.0.0/12",
      "missing-cidr:192.168.0.0/16",
      "missing-cidr:169.254.0.0/16",
      "unexpected-cidr:100.64.0.0/10",
    ]);
  });

  it("a file it could not read is one critical difference, not a missing policy", () => {
    const a = assessWindows(
      config,
      snap([], "not valid JSON at line 3, column 1: unexpected character"),
    );
    expect(a.report.status).toBe("drifted");
    expect(a.report.summary).toBe("unreadable rules");
    expect(a.differences).toEqual([
      {
        kind: "unreadable",
        severity: "critical",
        scope: "windows",
        message:
          "could not read the CNI config: not valid JSON at line 3, column 1: unexpected character",
        impact: "unknown: the reporter never writes a file it cannot parse",
      },
    ]);
    expect(a.desired).toEqual(want);
  });
});

describe("evaluateSnapshots: one answer across iptables backends", () => {
  // Legacy returns 192.168.0.0/16 (the applied config); nf_tables holds a copy returning only 10/8.
  const legacy = snapshotOf({
    family: "ipv4",
    chain: chainS(["10.0.0.0/8", "192.168.0.0/16"]),
    postrouting: postroutingS([JUMP]),
    backend: "legacy",
  });
  const nft = snapshotOf({
    family: "ipv4",
    chain: chainS(["10.0.0.0/8"]),
    postrouting: postroutingS([JUMP]),
    backend: "nf_tables",
  });
  const cases: {
    desc: string;
    input: { snaps: ReturnType<typeof snapshotOf>[]; ip: string };
    want: { masqueraded: boolean; reason: RegExp };
  }[] = [
    {
      desc: "masqueraded when one backend masquerades what the other returns",
      input: { snaps: [legacy, nft], ip: "192.168.50.2" },
      want: {
        masqueraded: true,
        reason:
          /^with the rules of legacy and nf_tables, for every packet: nf_tables: IP-MASQ-AGENT rule 2 masquerades it \(legacy: no NAT\)/,
      },
    },
    {
      desc: "not masqueraded when every backend returns it",
      input: { snaps: [legacy, nft], ip: "10.1.2.3" },
      want: {
        masqueraded: false,
        reason:
          /^with the rules of legacy and nf_tables, for every packet: neither backend NATs it/,
      },
    },
    {
      desc: "one backend: its own verdict",
      input: { snaps: [legacy], ip: "192.168.50.2" },
      want: { masqueraded: false, reason: /^192\.168\.50\.2 is in 192\.168\.0\.0\/16/ },
    },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const v = evaluateSnapshots(c.input.snaps, "IP-MASQ-AGENT", c.input.ip);
      expect(v).toMatchObject({ masqueraded: c.want.masqueraded, certain: true });
      if (!("error" in v)) expect(v.reason).toMatch(c.want.reason);
    });
  }
});
