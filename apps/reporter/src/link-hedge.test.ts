import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { hedgedOpen } from "./link-hedge.js";

/** A socket attempt the test opens, fails or leaves hanging. */
class FakeSocket extends EventEmitter {
  terminated = false;
  terminate() {
    this.terminated = true;
  }
  open() {
    this.emit("open");
  }
  fail() {
    this.emit("error", new Error("ECONNREFUSED"));
    this.emit("close");
  }
}

function attempts(max: number, hedgeMs = 30) {
  const made: FakeSocket[] = [];
  const done: (FakeSocket | undefined)[] = [];
  const cancel = hedgedOpen(
    () => {
      const s = new FakeSocket();
      made.push(s);
      return s as unknown as WebSocket;
    },
    { hedgeMs, max },
    (ws) => done.push(ws as unknown as FakeSocket | undefined),
  );
  return { made, done, cancel };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("hedgedOpen", () => {
  it("one attempt that opens: no hedge", async () => {
    const a = attempts(3);
    a.made[0]!.open();
    await wait(100);
    expect(a.made).toHaveLength(1);
    expect(a.done).toEqual([a.made[0]]);
  });

  it("a hanging attempt gets company after hedgeMs; the first to open wins, the others end", async () => {
    const a = attempts(3);
    await wait(45);
    expect(a.made).toHaveLength(2);
    a.made[1]!.open();
    await wait(100);
    expect(a.made).toHaveLength(2);
    expect(a.done).toEqual([a.made[1]]);
    expect(a.made[0]!.terminated).toBe(true);
  });

  it("an attempt refused at once starts the next without waiting", () => {
    const a = attempts(3, 10_000);
    a.made[0]!.fail();
    expect(a.made).toHaveLength(2);
    a.cancel();
  });

  it("every attempt failed: done(undefined), once", async () => {
    const a = attempts(2, 10_000);
    a.made[0]!.fail();
    a.made[1]!.fail();
    await wait(20);
    expect(a.done).toEqual([undefined]);
  });

  it("max 1 (an ordinary reconnect): never a second attempt", async () => {
    const a = attempts(1);
    await wait(100);
    expect(a.made).toHaveLength(1);
    a.made[0]!.fail();
    expect(a.done).toEqual([undefined]);
  });

  it("cancelled: every pending attempt ends, nothing is reported, a late open is closed", async () => {
    const a = attempts(3);
    await wait(45);
    a.cancel();
    expect(a.made.every((s) => s.terminated)).toBe(true);
    a.made[0]!.terminated = false;
    a.made[0]!.open();
    await wait(60);
    expect(a.made).toHaveLength(2);
    expect(a.done).toEqual([]);
    expect(a.made[0]!.terminated).toBe(true);
  });
});
