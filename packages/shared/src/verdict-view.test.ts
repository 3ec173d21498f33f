import { ISSUE_ITEM1_NODE, natSave } from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import type { PacketFields } from "./analysis/evaluate.js";
import { evaluateSnapshots } from "./assess.js";
import { saveSnapshot } from "./test-fixtures/save-snapshot.js";
import { type BranchGroup, foldAnswer, verdictView } from "./verdict-view.js";

const CNI = "CNI-0a1b2c3d4e5f60718293a4b5";

function viewOf(save: string, ip: string, fields: PacketFields = {}) {
  const v = evaluateSnapshots([saveSnapshot(save)], "IP-MASQ-AGENT", ip, fields);
  if ("error" in v) throw new Error(v.error);
  return verdictView(v);
}

const brief = (g: BranchGroup) => ({
  title: g.title,
  answer: g.answer,
  branches: g.branches.map((b) => `${b.when.join(" and ") || "all"} → ${b.summary}`),
});

describe("verdictView", () => {
  const cases: {
    desc: string;
    input: { save: string; ip: string; fields?: PacketFields };
    want: { answer: string; certain: boolean; groups: ReturnType<typeof brief>[] };
  }[] = [
    {
      desc: "issue item 1: kube-proxy's mark and the CNI chain make the answer depend; unmarked first",
      input: { save: ISSUE_ITEM1_NODE, ip: "10.20.30.40" },
      want: {
        answer: "depends",
        certain: false,
        groups: [
          {
            title: "Unmarked packets (pod traffic as it usually is)",
            answer: "depends",
            branches: [
              `source in 10.100.64.64/26 → masqueraded by ${CNI} rule 2 (CNI bridge plugin (ipMasq))`,
              "source not in 10.100.64.64/26 → keeps its address (IP-MASQ-AGENT rule 2 (ip-masq-agent) returns it)",
            ],
          },
          {
            title: "Packets with mark bit 0x4000 set (kube-proxy marks service traffic it SNATs)",
            answer: "masqueraded",
            branches: ["mark bit 0x4000 set → masqueraded by KUBE-POSTROUTING rule 1 (kube-proxy)"],
          },
        ],
      },
    },
    {
      desc: "issue item 1 with a source outside the CNI range and mark 0: one certain answer",
      input: {
        save: ISSUE_ITEM1_NODE,
        ip: "10.20.30.40",
        fields: { source: "10.100.65.70", mark: 0 },
      },
      want: { answer: "not-masqueraded", certain: true, groups: [] },
    },
    {
      desc: "a protocol-only RETURN: TCP keeps the pod IP, other protocols are masqueraded",
      input: {
        save: natSave(
          ["IP-MASQ-AGENT"],
          [
            "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT",
            "-A IP-MASQ-AGENT -d 8.8.8.8/32 -p tcp -j RETURN",
            "-A IP-MASQ-AGENT -j MASQUERADE",
          ],
        ),
        ip: "8.8.8.8",
      },
      want: {
        answer: "depends",
        certain: false,
        groups: [
          {
            title: "",
            answer: "depends",
            branches: [
              "-p tcp → keeps its address (IP-MASQ-AGENT rule 1 (ip-masq-agent) returns it)",
              "! -p tcp → masqueraded by IP-MASQ-AGENT rule 2 (ip-masq-agent)",
            ],
          },
        ],
      },
    },
    {
      desc: "the agent chain alone: masqueraded, not certain (POSTROUTING not read)",
      input: {
        save: "*nat\n:IP-MASQ-AGENT - [0:0]\n-A IP-MASQ-AGENT -j MASQUERADE\nCOMMIT\n",
        ip: "1.1.1.1",
      },
      want: { answer: "masqueraded", certain: false, groups: [] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const v = viewOf(input.save, input.ip, input.fields);
    expect({ answer: v.answer, certain: v.certain, groups: v.groups.map(brief) }).toEqual(want);
  });

  it("an unread chain is unknown and said", () => {
    const save = natSave(
      ["IP-MASQ-AGENT"],
      [
        "-A POSTROUTING -j SOMEWHERE",
        "-A POSTROUTING -j IP-MASQ-AGENT",
        "-A IP-MASQ-AGENT -j MASQUERADE",
      ],
    );
    const v = viewOf(save, "1.1.1.1");
    expect(v.answer).toBe("unknown");
    expect(v.unknowns.join(" ")).toMatch(/SOMEWHERE/);
  });
});

describe("foldAnswer", () => {
  const cases = [
    { desc: "all true", input: [true, true], want: "masqueraded" },
    { desc: "all false", input: [false], want: "not-masqueraded" },
    { desc: "both", input: [true, false, null], want: "depends" },
    { desc: "one unknown", input: [false, null], want: "unknown" },
    { desc: "nothing", input: [], want: "unknown" },
  ] as const;
  it.each(cases)("$desc", ({ input, want }) => expect(foldAnswer(input)).toBe(want));
});
