// ListWatcher's decisions against a scripted watch (what client-node's Watch calls back with):
// where each watch starts from, when it lists again, and when it waits.
import type { V1ConfigMap } from "@kubernetes/client-node";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type EventType, ListWatcher } from "./list-watch.js";

type Step =
  | { events: [string, object][]; end?: unknown } // events, then the stream ends
  | { fail: unknown }; // the request fails before the stream opens

const cm = (rv: string): V1ConfigMap => ({ metadata: { name: "c", resourceVersion: rv } });
const gone = { kind: "Status", code: 410, reason: "Expired" };

/** A watch that plays `steps` in order and records the resourceVersion of each request. */
function scripted(steps: Step[]) {
  const from: string[] = [];
  return {
    from,
    watch: {
      async watch(
        _path: string,
        q: Record<string, unknown>,
        onEvent: (type: string, obj: never) => void,
        done: (err: unknown) => void,
      ) {
        from.push(String(q.resourceVersion));
        const step = steps.shift() ?? { events: [], end: "hang" };
        if ("fail" in step) {
          done(step.fail);
          return new AbortController();
        }
        const ctl = new AbortController();
        ctl.signal.addEventListener("abort", () => done(new Error("aborted")));
        setTimeout(() => {
          for (const [t, o] of step.events) onEvent(t, o as never);
          if (step.end !== "hang") done(step.end ?? null);
        }, 1);
        return ctl;
      },
    },
  };
}

let watcher: ListWatcher<V1ConfigMap> | undefined;
afterEach(async () => {
  await watcher?.stop();
});

function start(steps: Step[], lists: string[]) {
  const w = scripted(steps);
  const seen: [EventType | "list", string][] = [];
  let n = 0;
  watcher = new ListWatcher<V1ConfigMap>({
    watch: w.watch,
    path: "/api/v1/namespaces/ns/configmaps",
    fieldSelector: "metadata.name=c",
    list: async () => {
      const rv = lists[Math.min(n++, lists.length - 1)]!;
      return { items: [cm(rv)], metadata: { resourceVersion: rv } };
    },
    onList: (items) => seen.push(["list", items[0]!.metadata!.resourceVersion!]),
    onEvent: (t, o) => seen.push([t, o.metadata!.resourceVersion!]),
    log: pino({ level: "silent" }),
    backoffMs: { initial: 20, max: 40 },
  });
  return { w, seen, started: watcher.start() };
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

describe("ListWatcher", () => {
  it("watches from the list's version, resumes from the last event or bookmark, relists on 410", async () => {
    const { w, seen, started } = start(
      [
        {
          events: [
            ["MODIFIED", cm("12")],
            ["BOOKMARK", cm("15")],
          ],
        }, // then the server closes it
        { events: [["ERROR", gone]] }, // resumed from 15: expired
        { events: [], end: "hang" },
      ],
      ["10", "20"],
    );
    await started;
    await settle();
    expect(w.from).toEqual(["10", "15", "20"]);
    expect(seen).toEqual([
      ["list", "10"],
      ["MODIFIED", "12"],
      ["list", "20"],
    ]);
    expect(watcher!.health).toMatchObject({ open: true, failures: 0, lists: 2 });
  });

  it("backs off, without relisting, while the API server cannot be reached, and reports it", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { name: "TypeError" });
    const { w, started } = start(
      [
        { fail: refused },
        { fail: refused },
        { fail: refused },
        { events: [["MODIFIED", cm("11")]], end: "hang" },
      ],
      ["10"],
    );
    await started;
    await settle(40);
    expect(watcher!.health).toMatchObject({ open: false, unreachable: true });
    expect(watcher!.health.failures).toBeGreaterThan(0);
    await settle(300);
    expect(w.from).toEqual(["10", "10", "10", "10"]);
    expect(watcher!.health).toMatchObject({
      open: true,
      failures: 0,
      unreachable: false,
      lists: 1,
    });
  });

  it("backs off when even a fresh list's version is already expired, instead of looping", async () => {
    const { w, started } = start(
      Array.from({ length: 50 }, () => ({ events: [["ERROR", gone]] as [string, object][] })),
      ["10"],
    );
    await started;
    await settle(200);
    // 20, 30, 40, 40 … ms apart: a handful of attempts, not hundreds.
    expect(w.from.length).toBeGreaterThan(2);
    expect(w.from.length).toBeLessThan(12);
    expect(watcher!.health.lastError).toMatch(/410/);
  });
});
