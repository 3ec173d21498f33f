import { describe, expect, it } from "vitest";
import { chainTargets, isChainTarget, ruleTarget } from "./targets.js";

describe("ruleTarget", () => {
  const cases: { desc: string; input: string; want: ReturnType<typeof ruleTarget> }[] = [
    {
      desc: "a jump",
      input: "-A POSTROUTING -j KUBE-POSTROUTING",
      want: { target: "KUBE-POSTROUTING", goto: false },
    },
    {
      desc: "a goto",
      input: "-A cali-POSTROUTING -g cali-nat-outgoing",
      want: { target: "cali-nat-outgoing", goto: true },
    },
    { desc: "long flags", input: "-A POSTROUTING --jump X", want: { target: "X", goto: false } },
    {
      desc: "a target after matches and a quoted comment holding -j",
      input:
        '-A POSTROUTING -s 10.100.64.64/26 -m comment --comment "name: \\"cbr0\\" -j FAKE" -j CNI-0a1b2c3d4e5f60718293a4b5',
      want: { target: "CNI-0a1b2c3d4e5f60718293a4b5", goto: false },
    },
    {
      desc: "a comment that is exactly -j",
      input: '-A POSTROUTING -m comment --comment "-j" -j MASQUERADE --random-fully',
      want: { target: "MASQUERADE", goto: false },
    },
    { desc: "no target", input: "-A POSTROUTING -d 10.0.0.0/8", want: undefined },
    { desc: "a chain declaration", input: "-N KUBE-POSTROUTING", want: undefined },
    { desc: "a policy", input: "-P POSTROUTING ACCEPT", want: undefined },
    { desc: "an unterminated quote", input: '-A X -m comment --comment "a -j Y', want: undefined },
  ];
  for (const c of cases) it(c.desc, () => expect(ruleTarget(c.input)).toEqual(c.want));
});

describe("chainTargets", () => {
  it("keeps user chains in rule order, each once, and leaves target extensions out", () => {
    expect(
      chainTargets([
        "-P POSTROUTING ACCEPT",
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A POSTROUTING -s 10.100.64.64/26 -j CNI-0a1b",
        "-A POSTROUTING -j KUBE-POSTROUTING",
        "-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully",
        "-A POSTROUTING -j SNAT --to-source 192.0.2.1",
        "-A POSTROUTING -j RETURN",
        "-A POSTROUTING -j LOG --log-prefix x",
        "-A POSTROUTING -g AWS-SNAT-CHAIN-0",
      ]),
    ).toEqual(["KUBE-POSTROUTING", "CNI-0a1b", "AWS-SNAT-CHAIN-0"]);
  });
  it("knows the standard targets from user chains", () => {
    for (const t of [
      "ACCEPT",
      "DROP",
      "RETURN",
      "MASQUERADE",
      "SNAT",
      "DNAT",
      "MARK",
      "CONNMARK",
      "CT",
      "NOTRACK",
      "TCPMSS",
    ])
      expect(isChainTarget(t)).toBe(false);
    for (const c of ["IP-MASQ-AGENT", "cali-nat-outgoing", "CILIUM_POST_nat", "masquerade"])
      expect(isChainTarget(c)).toBe(true);
  });
});
