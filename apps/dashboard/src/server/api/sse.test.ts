import type { IncomingMessage, ServerResponse } from "node:http";
import type { HelloEvent } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { SseHub } from "./sse.js";

function stream() {
  const s = { ended: false, text: "" };
  const res = {
    writableLength: 0,
    writeHead: () => res,
    write: (t: string) => {
      s.text += t;
      return true;
    },
    end: () => {
      s.ended = true;
    },
    on: () => res,
  };
  const req = { on: () => req };
  return { s, res: res as unknown as ServerResponse, req: req as unknown as IncomingMessage };
}

const HELLO: HelloEvent = {
  nodes: [],
  summary: {
    total: 0,
    byStatus: {},
    resourceVersion: "r1",
    revision: 1,
    desiredRevision: 1,
    rollout: null,
  },
  config: {} as HelloEvent["config"],
  rollout: null,
  serverTime: 0,
};

describe("SseHub", () => {
  it("ends the streams of an ended session and of credentials that no longer pass", async () => {
    const hub = new SseHub(60_000, 60_000);
    const a = stream();
    const b = stream();
    const c = stream();
    let cAllowed = true;
    hub.attach(a.req, a.res, HELLO, { session: "s1", stillAllowed: async () => true });
    hub.attach(b.req, b.res, HELLO, { session: "s2", stillAllowed: async () => true });
    hub.attach(c.req, c.res, HELLO, { stillAllowed: async () => cAllowed });
    hub.endSession("s1");
    expect([a.s.ended, b.s.ended, c.s.ended]).toEqual([true, false, false]);
    await hub.recheckAll();
    expect(c.s.ended).toBe(false);
    cAllowed = false; // e.g. the bearer token was revoked in Kubernetes
    await hub.recheckAll();
    expect([b.s.ended, c.s.ended]).toEqual([false, true]);
    hub.send("rollout", null);
    expect(b.s.text).toContain("event: rollout");
    expect(a.s.text).not.toContain("event: rollout");
    expect(hub.size).toBe(1);
    hub.close();
  });
});
