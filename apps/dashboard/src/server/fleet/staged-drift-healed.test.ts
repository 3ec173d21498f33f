// A canary whose rules were edited while the dashboard did not hear from it (the dashboard
// stopped, its reporter frozen) is sent the revision it runs at reconnect, and that apply changes
// them back. A new user's find: the drift was never judged, the timeline said only "changed the
// rules", and the next wave was released on schedule. Counted as a drift seen live is: the
// rollout pauses, saying what is known of it.
import { type ApplyResult, DEFAULT_FLAGS, desiredChain, snapshotOf } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { okResult, rulesOf, snap } from "./post-apply.fixture.js";
import { stagedFleet, v1, v2 } from "./staged-fleet.fixture.js";
import { WAVES } from "./staged-rollout.fixture.js";

const CANARY_DONE = "the canary applied; paused until promoted";

/** Revision 2's rules without its RETURN for 10.0.0.0/8 (a hand edit). */
function v2Drifted() {
  const d = desiredChain(v2.config, DEFAULT_FLAGS, "ipv4");
  return [
    snapshotOf({
      family: "ipv4",
      chain: [
        `-N ${d.chain}`,
        ...d.rules.map((r) => r.line).filter((l) => !l.includes("-d 10.0.0.0/8 ")),
      ],
      postrouting: [`-A POSTROUTING -m addrtype ! --dst-type LOCAL -j ${d.chain}`],
    }),
  ];
}

type Step = { read: "drifted" | "in-sync" } | { apply: ApplyResult };

const reapply = (changed: boolean): Step => ({ apply: { ...okResult(2), changed } });

/**
 * Revision 2 rolling out, its canary applied it (in sync); then `node` connects anew saying it
 * runs `helloRevision`, and `steps` come from it. The rollout's message and failed nodes, and
 * the node's drift entries.
 */
function run(input: { node: "canary" | "held back"; helloRevision: number; steps: Step[] }) {
  const t = stagedFleet(WAVES);
  const canary = t.order[0]!;
  t.fleet.snapshot(canary, snap(2, rulesOf(v2.config)));
  t.fleet.applyResult(canary, okResult(2));
  expect(t.staged.view()!.message).toBe(CANARY_DONE);
  const name = input.node === "canary" ? canary : t.order[1]!;
  const revision = input.helloRevision;
  const config = revision === 2 ? v2.config : v1.config;
  // A new connection (the dashboard restarted, a frozen reporter back): sent what it runs.
  const hello = helloFor(name, { mode: "enforce", appliedRevision: revision });
  t.fleet.connect(hello, { send() {}, close() {} });
  for (const step of input.steps) {
    if ("apply" in step) t.fleet.applyResult(name, step.apply);
    else
      t.fleet.snapshot(
        name,
        snap(revision, step.read === "drifted" ? v2Drifted() : rulesOf(config)),
      );
  }
  const events = t.fleet.nodes.get(name)!.events.list();
  return {
    canary,
    message: t.staged.view()!.message,
    failed: t.staged.failedNodes(2),
    drift: events.filter((e) => e.kind === "drift").map((e) => e.message),
  };
}

describe("a staged rollout and a drift an apply at reconnect changed back", () => {
  const unknown =
    "what differed is not known \\(no read of the drifted rules reached the dashboard\\)";
  const table: {
    desc: string;
    input: { node: "canary" | "held back"; helloRevision: number; steps: Step[] };
    want: {
      /** The pause's words after the node's name, or the whole message. */
      message: RegExp | string;
      failed: boolean;
      drift: RegExp | null;
    };
  }[] = [
    {
      desc: "the canary, its rules changed back at reconnect, no read of them first",
      input: { node: "canary", helloRevision: 2, steps: [reapply(true)] },
      want: {
        message: new RegExp(
          `^its rules had drifted from revision 2 while the dashboard did not hear from it; re-applying revision 2 at reconnect changed them back; ${unknown}$`,
        ),
        failed: true,
        drift: /^its rules had drifted from revision 2 while the dashboard did not hear from it/,
      },
    },
    {
      desc: "the canary, its first read after reconnect showed the drift (the apply under way hid it)",
      input: {
        node: "canary",
        helloRevision: 2,
        steps: [{ read: "drifted" }, { read: "in-sync" }, reapply(true)],
      },
      want: {
        message:
          /^its rules had drifted from revision 2 .*; what differed: missing 10\.0\.0\.0\/8$/,
        failed: true,
        drift: /; what differed: missing 10\.0\.0\.0\/8$/,
      },
    },
    {
      desc: "the canary, its rules found right at reconnect",
      input: { node: "canary", helloRevision: 2, steps: [reapply(false)] },
      want: { message: CANARY_DONE, failed: false, drift: null },
    },
    {
      desc: "a node the rollout has not reached, its stable revision's rules changed back",
      input: {
        node: "held back",
        helloRevision: 1,
        steps: [{ apply: { ...okResult(1), changed: true } }],
      },
      want: {
        message: CANARY_DONE,
        failed: false,
        drift: /^its rules had drifted from revision 1 while the dashboard did not hear from it/,
      },
    },
  ];
  for (const c of table)
    it(c.desc, () => {
      const { message, failed, drift, canary } = run(c.input);
      if (typeof c.want.message === "string") expect(message).toBe(c.want.message);
      else {
        // The live drift's words: "paused: <node> drifted from revision 2: ...".
        expect(message.startsWith(`paused: ${canary}: `)).toBe(true);
        expect(message.slice(`paused: ${canary}: `.length)).toMatch(c.want.message);
      }
      expect(failed).toEqual(c.want.failed ? [canary] : []);
      expect(drift).toEqual(c.want.drift ? [expect.stringMatching(c.want.drift)] : []);
    });
});
