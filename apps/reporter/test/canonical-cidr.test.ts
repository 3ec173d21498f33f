// Issue 11.6 on real iptables: upstream writes a CIDR's text as given, and iptables reads a
// prefix with a leading zero in base 0 (octal), so the config's warning must be true, and this
// reporter must write the block Go validated (the canonical text) and read it back in sync.
import {
  assessLinux,
  DEFAULT_FLAGS,
  defaultConfig,
  type MasqConfig,
  validateConfig,
} from "@masq/shared";
import { inNetns, natRules, netnsPool } from "@masq/testkit/netns";
import { afterEach, describe, expect, it } from "vitest";
import { createIptablesBackend } from "../src/backend/iptables.js";

const pool = netnsPool();
afterEach(() => pool.cleanup());

const CHAIN = "IP-MASQ-AGENT";
const V6 = { ...DEFAULT_FLAGS, enableIPv6: true };
const cfg = (cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });
const returns = (ns: string, tool = "iptables") =>
  natRules(ns, CHAIN, tool).flatMap((l) =>
    l.endsWith("-j RETURN") ? [/-d (\S+)/.exec(l)![1]!] : [],
  );

/** What upstream does with the text: one restore of the rule as written. */
function restoreVerbatim(ns: string, cidr: string): { ok: boolean; rules: string[] } {
  const payload = `*nat\n:${CHAIN} - [0:0]\n-A ${CHAIN} -d ${cidr} -j RETURN\nCOMMIT\n`;
  try {
    inNetns(ns, ["iptables-restore", "--noflush"], payload);
    return { ok: true, rules: returns(ns) };
  } catch {
    return { ok: false, rules: [] };
  }
}

describe("CIDRs with leading zeros in the prefix, on real iptables", () => {
  const cases: { desc: string; input: string; want: { upstream: string | null; ours: string } }[] =
    [
      {
        desc: "/016 is octal 14 to iptables",
        input: "192.168.0.0/016",
        want: { upstream: "192.168.0.0/14", ours: "192.168.0.0/16" },
      },
      {
        desc: "/010 is /8, which masks the block to another network",
        input: "10.64.0.0/010",
        want: { upstream: "10.0.0.0/8", ours: "10.64.0.0/10" },
      },
      {
        desc: "/08 is refused",
        input: "10.0.0.0/08",
        want: { upstream: null, ours: "10.0.0.0/8" },
      },
    ];
  for (const { desc, input, want } of cases) {
    it(desc, async () => {
      const up = restoreVerbatim(pool.add("zero"), input);
      expect(up.ok ? up.rules : null).toEqual(want.upstream === null ? null : [want.upstream]);
      // The config's warning says exactly that.
      const warning = validateConfig(cfg([input])).warnings.find(
        (w) => w.code === "cidr-not-canonical",
      )!;
      expect(warning.message).toContain(
        want.upstream === null ? "fails to apply the config" : `makes a rule for ${want.upstream}`,
      );

      const ns = pool.add("ours");
      const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
      expect(await b.apply(cfg([input]), "cli")).toMatchObject({ ok: true, rolledBack: false });
      expect(returns(ns)).toEqual(["169.254.0.0/16", want.ours]);
      expect(assessLinux(cfg([input]), DEFAULT_FLAGS, await b.read()).report.status).toBe(
        "in-sync",
      );
    });
  }

  it("IPv6 not in RFC 5952 form is written canonically and reads back in sync", async () => {
    const ns = pool.add("v6");
    const b = createIptablesBackend({ netns: ns, flags: V6 });
    const c = cfg(["FD00:0:0:0:0:0:0:0/008", "2001:0db8::/32"]);
    expect(await b.apply(c, "cli")).toMatchObject({ ok: true, rolledBack: false });
    expect(returns(ns, "ip6tables")).toEqual(["fe80::/10", "fd00::/8", "2001:db8::/32"]);
    expect(assessLinux(c, V6, await b.read()).report.status).toBe("in-sync");
  });
});
