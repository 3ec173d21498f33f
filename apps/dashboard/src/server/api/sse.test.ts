import type { IncomingMessage, ServerResponse } from "node:http";
import type { HelloEvent } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { SseHub } from "./sse.js";

function stream() {
  const s = { ended: false, text: "", last: undefined as string | Buffer | undefined };
  const res = {
    writableLength: 0,
    writeHead: () => res,
    write: (t: string | Buffer) => {
      s.last = t;
      s.text += typeof t === "string" ? t : t.toString("utf8");
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
    abortedRevision: null,
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

describe("an event to every stream", () => {
  const cases: { desc: string; input: number; want: string }[] = [
    {
      desc: "one stream",
      input: 1,
      want: 'event: rollout\ndata: {"note":"in-sync → applying"}\n\n',
    },
    {
      desc: "three streams: the same bytes, encoded once",
      input: 3,
      want: 'event: rollout\ndata: {"note":"in-sync → applying"}\n\n',
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const hub = new SseHub(60_000, 60_000);
      const streams = Array.from({ length: c.input }, () => stream());
      for (const x of streams) hub.attach(x.req, x.res, HELLO, { stillAllowed: async () => true });
      const before = streams.map((x) => x.s.text.length);
      hub.send("rollout", { note: "in-sync → applying" } as never);
      expect(streams.map((x, i) => x.s.text.slice(before[i]))).toEqual(streams.map(() => c.want));
      // Several streams share one encoded chunk.
      if (c.input === 1) return;
      expect(streams.every((x) => Buffer.isBuffer(x.s.last))).toBe(true);
      expect(new Set(streams.map((x) => x.s.last)).size).toBe(1);
      hub.close();
    });
});
