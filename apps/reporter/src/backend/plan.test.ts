import {
  analyzeSnapshot,
  DEFAULT_FLAGS,
  defaultConfig,
  type FamilySnapshot,
  jumpRuleLine,
  renderApplyPayload,
  snapshotOf,
} from "@masq/shared";
import { describe, expect, it } from "vitest";
import { applyPayloadTo, type SimulatedFamily } from "./memory.js";
import { needsWrite, planJumps, rollbackPayload, ruleSpec, verifyProblems } from "./plan.js";

const CHAIN = "IP-MASQ-AGENT";
const JUMP = jumpRuleLine(CHAIN);
const KUBE =
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING';
const SIMPLE_JUMP = "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT";
const LIMITED_JUMP = "-A POSTROUTING -s 10.0.0.0/8 -j IP-MASQ-AGENT";

function snap(post: string[], chain: string[] | null = null): FamilySnapshot {
  return snapshotOf({ family: "ipv4", chain, postrouting: ["-P POSTROUTING ACCEPT", ...post] });
}
const plan = (post: string[]) => planJumps(analyzeSnapshot(snap(post), CHAIN));

/** The node after the agent applied the default config (`edit` changes it first). */
function appliedNode(post: string[] = [KUBE]): SimulatedFamily {
  const s = { chain: null as string[] | null, postrouting: ["-P POSTROUTING ACCEPT", ...post] };
  applyPayloadTo(s, CHAIN, renderApplyPayload(defaultConfig(), DEFAULT_FLAGS, "ipv4", plan(post)));
  return s;
}
function applied(post?: string[], edit: (s: SimulatedFamily) => void = () => {}): FamilySnapshot {
  const s = appliedNode(post);
  edit(s);
  return snapshotOf({ family: "ipv4", ...s });
}

describe("planJumps", () => {
  it("adds the jump when there is none", () => {
    expect(plan([KUBE])).toEqual({ addJump: true, deleteJumps: [] });
  });
  it("keeps a single exact jump", () => {
    expect(plan([KUBE, JUMP])).toEqual({ addJump: false, deleteJumps: [] });
  });
  it("deletes duplicates, keeping the exact one", () => {
    expect(plan([SIMPLE_JUMP, JUMP, JUMP])).toEqual({
      addJump: false,
      deleteJumps: [
        ruleSpec(analyzeSnapshot(snap([SIMPLE_JUMP]), CHAIN).jumps[0]!.rule),
        JUMP.replace("-A POSTROUTING ", ""),
      ],
    });
  });
  it("keeps a jump with the same behaviour and another comment", () => {
    expect(plan([SIMPLE_JUMP])).toEqual({ addJump: false, deleteJumps: [] });
  });
  it("replaces a jump with other conditions", () => {
    expect(plan([LIMITED_JUMP])).toEqual({
      addJump: true,
      deleteJumps: ["-s 10.0.0.0/8 -j IP-MASQ-AGENT"],
    });
  });
});

describe("needsWrite / verifyProblems", () => {
  it("an empty node needs a write and does not verify", () => {
    const s = snap([KUBE]);
    expect(needsWrite(defaultConfig(), DEFAULT_FLAGS, s)).toBe(true);
    expect(verifyProblems(defaultConfig(), DEFAULT_FLAGS, s)).toEqual([
      expect.stringMatching(/does not exist/),
    ]);
  });
  it("the agent's own result needs nothing and verifies", () => {
    const s = applied();
    expect(needsWrite(defaultConfig(), DEFAULT_FLAGS, s)).toBe(false);
    expect(verifyProblems(defaultConfig(), DEFAULT_FLAGS, s)).toEqual([]);
  });
  it("an extra rule written by someone else fails verification", () => {
    const s = applied(undefined, (n) =>
      n.chain!.splice(2, 0, `-A ${CHAIN} -d 203.0.113.0/24 -j RETURN`),
    );
    expect(verifyProblems(defaultConfig(), DEFAULT_FLAGS, s).join()).toMatch(/203\.0\.113\.0\/24/);
  });
  it("a second jump fails verification", () => {
    const s = applied([KUBE, JUMP], (n) => n.postrouting.push(JUMP));
    expect(verifyProblems(defaultConfig(), DEFAULT_FLAGS, s).join()).toMatch(/2 times/);
  });
  it("a shadowing rule of someone else neither needs a write nor fails verification", () => {
    const s = applied(["-A POSTROUTING -j ACCEPT"]);
    expect(needsWrite(defaultConfig(), DEFAULT_FLAGS, s)).toBe(false);
    expect(verifyProblems(defaultConfig(), DEFAULT_FLAGS, s)).toEqual([]);
  });
  it("a read error fails verification", () => {
    expect(
      verifyProblems(defaultConfig(), DEFAULT_FLAGS, { ...applied(), readError: "boom" }),
    ).toEqual(["could not read back: boom"]);
  });
});

describe("rollbackPayload", () => {
  it("restores the old chain, removes new jumps and puts old ones back at their position", () => {
    const oldChain = [
      `-N ${CHAIN}`,
      `-A ${CHAIN} -d 10.0.0.0/8 -j RETURN`,
      `-A ${CHAIN} -j MASQUERADE`,
    ];
    const before = snap([SIMPLE_JUMP, KUBE], oldChain);
    const after = snap([KUBE, JUMP], appliedNode().chain);
    expect(rollbackPayload(CHAIN, before, after).split("\n")).toEqual([
      "*nat",
      `:${CHAIN} - [0:0]`,
      `-A ${CHAIN} -d 10.0.0.0/8 -j RETURN`,
      `-A ${CHAIN} -j MASQUERADE`,
      `-D POSTROUTING ${JUMP.replace("-A POSTROUTING ", "")}`,
      `-I POSTROUTING 1 ${SIMPLE_JUMP.replace("-A POSTROUTING ", "")}`,
      "COMMIT",
      "",
    ]);
  });
  it("deletes a chain that did not exist", () => {
    const lines = rollbackPayload(CHAIN, snap([KUBE]), applied()).split("\n");
    expect(lines.slice(-4)).toEqual([
      `-D POSTROUTING ${JUMP.replace("-A POSTROUTING ", "")}`,
      `-X ${CHAIN}`,
      "COMMIT",
      "",
    ]);
  });
  it("never inserts past the end of POSTROUTING", () => {
    const before = snap([KUBE, "-A POSTROUTING -j X1", SIMPLE_JUMP], []);
    const after = snap([KUBE, JUMP], []); // X1 was removed meanwhile by someone else
    expect(rollbackPayload(CHAIN, before, after)).toContain(
      `-I POSTROUTING 2 ${SIMPLE_JUMP.replace("-A POSTROUTING ", "")}`,
    );
  });
});
