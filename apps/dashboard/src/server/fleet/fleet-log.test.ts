// Reporters coming and going and a staged rollout's moves reach the dashboard's log, each once
// (a new user's find: dashboard.log had no connect, rollout start or promote to read after).

import { helloFor } from "@masq/testkit/fixtures";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { testFleet } from "./post-apply.fixture.js";
import { applied, link, setup, v1, v2 } from "./staged-rollout.fixture.js";

describe("reporters' connects and disconnects in the log", () => {
  it("says each, with the node", () => {
    const lines: { msg: string; node?: string; reason?: string }[] = [];
    const log = pino({}, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const fleet = testFleet(() => v1, { log });
    const l = link();
    fleet.connect(helloFor("b"), l);
    fleet.disconnect("b", l, "went away");
    expect(lines.filter((x) => x.node === "b").map((x) => [x.msg, x.reason])).toEqual([
      ["reporter connected", undefined],
      ["reporter disconnected", "went away"],
    ]);
  });
});

describe("the staged rollout's moves in the log", () => {
  it("logs each action once: the start and a promote", async () => {
    const lines: { msg: string; action?: string }[] = [];
    const log = pino({}, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const t = setup(["a", "b", "c"], [], { reason: null }, { log });
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    expect(t.staged.promote("bob", false)).toMatchObject({ ok: true });
    await t.staged.flush();
    const moves = lines.filter((l) => l.action !== undefined);
    expect(moves.map((l) => l.action)).toEqual(["start", "promote"]);
    expect(moves[0]!.msg).toMatch(/^rollout of revision 2: start by alice: /);
    expect(moves[1]!.msg).toMatch(/^rollout of revision 2: promote by bob: /);
  });
});
