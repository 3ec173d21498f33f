import {
  assessLinux,
  DEFAULT_FLAGS,
  defaultConfig,
  desiredChain,
  type FamilySnapshot,
  jumpRuleLine,
  snapshotOf,
} from "@masq/shared";
import { describe, expect, it } from "vitest";
import { align, compareFamily } from "./chains";

const config = defaultConfig();
const flags = DEFAULT_FLAGS;
const desiredLines = desiredChain(config, flags, "ipv4").rules.map((r) => r.line);
const chain = flags.masqChain;
const jump = jumpRuleLine(chain);

function snapshot(lines: string[], postrouting = [`-P POSTROUTING ACCEPT`, jump]): FamilySnapshot {
  return snapshotOf({ family: "ipv4", chain: [`-N ${chain}`, ...lines], postrouting });
}

function compare(snap: FamilySnapshot) {
  const diffs = assessLinux(config, flags, [snap]).report.differences;
  return compareFamily("ipv4", chain, desiredLines, snap, diffs);
}

describe("align", () => {
  it("pairs equal keys in order", () => {
    expect(align(["a", "b", "c"], ["a", "c", "d"])).toEqual([
      [0, 0],
      [1, null],
      [2, 1],
      [null, 2],
    ]);
  });
});

describe("compareFamily", () => {
  it("an in-sync node has only same rows, described in words", () => {
    const c = compare(snapshot(desiredLines));
    expect(c.rows.every((r) => r.state === "same")).toBe(true);
    expect(c.rows.map((r) => r.desired?.title)).toEqual([
      "169.254.0.0/16 (link-local) keeps pod IP",
      "10.0.0.0/8 keeps pod IP",
      "172.16.0.0/12 keeps pod IP",
      "192.168.0.0/16 keeps pod IP",
      "everything else is masqueraded (random-fully)",
    ]);
    expect(c.jump.kind).toBe("present");
  });

  it("rules printed by iptables -S in its own order are the same", () => {
    const printed = desiredLines.map((l) => {
      const m = /^(-A \S+) (-m comment --comment "[^"]*") (-d \S+) (-j RETURN)$/.exec(l);
      return m ? `${m[1]} ${m[3]} ${m[2]} ${m[4]}` : l;
    });
    expect(printed[1]).toMatch(/^-A IP-MASQ-AGENT -d 10\.0\.0\.0\/8 -m comment/);
    const c = compare(snapshot(printed));
    expect(c.rows.map((r) => r.state)).toEqual(["same", "same", "same", "same", "same"]);
  });

  it("a deleted rule is missing, explained by the drift engine", () => {
    const c = compare(snapshot(desiredLines.filter((l) => !l.includes("10.0.0.0/8"))));
    const row = c.rows.find((r) => r.state === "missing");
    expect(row?.desired?.title).toBe("10.0.0.0/8 keeps pod IP");
    expect(row?.explanation).toBe(
      "traffic to 10.0.0.0/8 is masqueraded but should keep the pod address",
    );
  });

  it("an added rule is unexpected", () => {
    const extra = `-A ${chain} -d 198.51.100.0/24 -j RETURN`;
    const lines = [...desiredLines];
    lines.splice(1, 0, extra);
    const c = compare(snapshot(lines));
    const row = c.rows.find((r) => r.state === "unexpected");
    expect(row?.actual?.title).toBe("198.51.100.0/24 keeps pod IP");
    expect(row?.explanation).toMatch(/should be masqueraded/);
  });

  it("other comments are cosmetic", () => {
    const lines = desiredLines.map((l) =>
      l.replace("local traffic is not subject to MASQUERADE", "hand written"),
    );
    const c = compare(snapshot(lines));
    expect(c.rows.filter((r) => r.state === "cosmetic")).toHaveLength(4);
  });

  it("reports a missing jump and a missing chain", () => {
    const noJump = compare(snapshot(desiredLines, ["-P POSTROUTING ACCEPT"]));
    expect(noJump.jump.kind).toBe("missing");
    const noChain = snapshotOf({ family: "ipv4", chain: null, postrouting: [jump] });
    const c = compare(noChain);
    expect(c.chainExists).toBe(false);
    expect(c.rows.every((r) => r.state === "missing")).toBe(true);
  });

  it("reports duplicate and shadowing POSTROUTING rules", () => {
    expect(compare(snapshot(desiredLines, [jump, jump])).jump.kind).toBe("duplicate");
    const shadow = compare(snapshot(desiredLines, ["-A POSTROUTING -j MASQUERADE", jump]));
    expect(shadow.jump.kind).toBe("shadowed");
    expect(shadow.jump.rules[0]?.mark).toBe("shadow");
  });
});
