import { describe, expect, it } from "vitest";
import type { HttpError } from "../errors.js";
import { WorkQueue, yieldToEventLoop } from "./work-queue.js";

describe("WorkQueue", () => {
  it("runs tasks one at a time, in order", async () => {
    const q = new WorkQueue(10);
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`start ${name}`);
      await yieldToEventLoop();
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([q.run(task("a")), q.run(task("b")), q.run(task("c"))]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("lets I/O callbacks run before each task", async () => {
    const q = new WorkQueue(10);
    const log: string[] = [];
    const p = Promise.all([q.run(() => log.push("task 1")), q.run(() => log.push("task 2"))]);
    setImmediate(() => log.push("probe"));
    await p;
    expect(log.indexOf("probe")).toBeLessThan(log.indexOf("task 2"));
  });

  it("refuses with 503 past the bound, and accepts again once work drains", async () => {
    const q = new WorkQueue(2);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const running = q.run(() => gate);
    await yieldToEventLoop(); // the first task is running: it no longer waits
    const waiting = [q.run(() => 1), q.run(() => 2)];
    await expect(q.run(() => 3)).rejects.toMatchObject({
      status: 503,
    } satisfies Partial<HttpError>);
    expect(q.pending()).toBe(2);
    release();
    await running;
    expect(await Promise.all(waiting)).toEqual([1, 2]);
    expect(await q.run(() => 4)).toBe(4);
  });

  it("a failing task does not stop the next", async () => {
    const q = new WorkQueue(5);
    const bad = q.run(() => {
      throw new Error("boom");
    });
    const good = q.run(() => "ok");
    await expect(bad).rejects.toThrow("boom");
    expect(await good).toBe("ok");
  });
});
