import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import type { NodeMasquerade, NodeMasqueradeStatus, StatusBody } from "./node-masquerade.js";
import type { NodeMasqueradeApi } from "./node-masquerade-api.js";
import { StatusWriter, type StatusWriterOptions } from "./status-writer.js";

/** Records the writes; objects in `existing` are there, others answer 404 until created. */
function recordingApi(existing = new Set<string>()) {
  const writes: { name: string; health: string; rv?: string }[] = [];
  const api: NodeMasqueradeApi = {
    async patchStatus(name: string, status: NodeMasqueradeStatus, rv?: string) {
      if (!existing.has(name)) throw Object.assign(new Error("not found"), { code: 404 });
      writes.push({ name, health: status.health, ...(rv ? { rv } : {}) });
    },
    async create(name: string) {
      existing.add(name);
    },
    async patchResyncRequest() {},
    async remove() {},
    async list() {
      return { items: [] };
    },
  };
  return { api, writes, existing };
}

const body = (health: StatusBody["health"], connected = true): StatusBody => ({
  replica: "dash-a",
  connected,
  health,
  desiredRevision: 3,
  appliedRevision: 3,
  backend: "iptables-nft",
  mode: "enforce",
  drift: { count: 0, reasons: [] },
  message: "",
});

/** A writer for replica dash-a. */
const writer = (
  api: NodeMasqueradeApi,
  ratePerSecond: number,
  observed: (name?: string) => NodeMasquerade | undefined = () => undefined,
) => new StatusWriter({ api, replica: "dash-a", ratePerSecond, observed, log: silentLogger() });

const settle = () => new Promise((r) => setTimeout(r, 30));

/**
 * A writer for dash-a at 100 writes a second of the existing object n1, whose every write is
 * what its watch sees next (`seen.object`: a test edits it as someone else would); `written`
 * the statuses written, in order.
 */
function watchedWriter(extra: Partial<StatusWriterOptions>) {
  const seen: { object: NodeMasquerade | undefined } = { object: undefined };
  const written: NodeMasqueradeStatus[] = [];
  const api: NodeMasqueradeApi = {
    ...recordingApi(new Set(["n1"])).api,
    async patchStatus(name, status) {
      written.push(status);
      seen.object = { metadata: { name, resourceVersion: String(written.length) }, status };
    },
  };
  const w = new StatusWriter({
    api,
    replica: "dash-a",
    ratePerSecond: 100,
    observed: () => seen.object,
    log: silentLogger(),
    ...extra,
  });
  return { w, written, seen };
}

/** A writer for replica dash-a at 100 writes a second, retrying a failed write after `retryMs`. */
const retrying = (api: NodeMasqueradeApi, retryMs: number) =>
  new StatusWriter({
    api,
    replica: "dash-a",
    ratePerSecond: 100,
    observed: () => undefined,
    log: silentLogger(),
    retryMs,
  });

describe("StatusWriter", () => {
  it("writes only on change, creates a missing object, and coalesces to the newest state", async () => {
    const { api, writes, existing } = recordingApi();
    const w = writer(api, 1);
    w.offer("n1", body("applying"));
    // The bucket's one token is spent on n1; these wait and fold into n1's newest state.
    w.offer("n1", body("drifted"));
    w.offer("n1", body("in-sync"));
    await settle();
    expect(existing.has("n1")).toBe(true);
    expect(writes).toEqual([{ name: "n1", health: "applying" }]);
    expect(w.queued).toBe(1);
    await new Promise((r) => setTimeout(r, 1050));
    expect(writes.map((x) => x.health)).toEqual(["applying", "in-sync"]);
    w.offer("n1", body("in-sync"));
    expect(w.queued).toBe(0);
    expect(w.stats.unchanged).toBe(1);
    w.close();
  });

  it("bounds the queue by the nodes offered, whatever the number of offers", async () => {
    const { api } = recordingApi(new Set(["a", "b"]));
    const w = writer(api, 1);
    w.offer("a", body("applying"));
    for (let i = 0; i < 1000; i++) w.offer("b", body(i % 2 ? "drifted" : "in-sync"));
    expect(w.queued).toBe(1);
    w.close();
  });

  const held = (replica: string, connected: boolean): NodeMasquerade => ({
    metadata: { name: "n1", resourceVersion: "42" },
    status: { replica, connected, health: "in-sync", observedAt: "2026-01-01T00:00:00Z" },
  });
  const cases = [
    {
      desc: "another replica holds it: the offline write is left out",
      seen: held("dash-b", true),
      want: [],
    },
    {
      desc: "still ours: written, conditional on the version seen",
      seen: held("dash-a", true),
      want: [{ name: "n1", health: "offline", rv: "42" }],
    },
  ];
  for (const c of cases)
    it(`offline: ${c.desc}`, async () => {
      const { api, writes } = recordingApi(new Set(["n1"]));
      const w = writer(api, 10, () => c.seen);
      w.offer("n1", body("offline", false));
      await settle();
      expect(writes).toEqual(c.want);
      w.close();
    });
});

describe("reconnects are written first and counted until written (break7)", () => {
  const heldBy = (name: string, replica: string): NodeMasquerade => ({
    metadata: { name, resourceVersion: "1" },
    status: { replica, connected: true, health: "in-sync", observedAt: "2026-01-01T00:00:00Z" },
  });

  it("a node whose object names another holder goes before ordinary changes", async () => {
    const { api, writes } = recordingApi(new Set(["x", "mine", "moved"]));
    const seen = new Map([
      ["mine", heldBy("mine", "dash-a")],
      ["moved", heldBy("moved", "dash-b")],
    ]);
    const w2 = writer(api, 1, (name?: string) => seen.get(name ?? ""));
    w2.offer("x", body("applying")); // takes the one token now
    w2.offer("mine", body("drifted"));
    w2.offer("moved", body("in-sync")); // reconnected here from dash-b
    expect(w2.reconnectsPending).toBe(2); // x: no object seen; moved: another holder
    await settle();
    expect(writes.map((x) => x.name)).toEqual(["x"]);
    expect(w2.reconnectsPending).toBe(1);
    await new Promise((r) => setTimeout(r, 1050));
    expect(writes.map((x) => x.name)).toEqual(["x", "moved"]);
    expect(w2.reconnectsPending).toBe(0);
    w2.close();
  });

  it("a reconnect offered disconnected again is no longer pending", () => {
    const { api } = recordingApi(new Set(["n1"]));
    const w = writer(api, 1, () => heldBy("n1", "dash-b"));
    w.offer("n0", body("applying")); // takes the one token
    w.offer("n1", body("in-sync"));
    expect(w.reconnectsPending).toBe(2);
    w.offer("n1", body("offline", false));
    expect(w.reconnectsPending).toBe(1);
    w.forget("n0");
    expect(w.reconnectsPending).toBe(0);
    w.close();
  });
});

describe("StatusWriter failures are said, not only logged", () => {
  it("keeps the last refusal until a write succeeds again", async () => {
    const { api, existing } = recordingApi(new Set(["n1"]));
    let refuse = true;
    const refusing: NodeMasqueradeApi = {
      ...api,
      async patchStatus(name, status, rv) {
        if (refuse) throw Object.assign(new Error("forbidden"), { code: 403 });
        return api.patchStatus(name, status, rv);
      },
    };
    const w = retrying(refusing, 20);
    existing.add("n1");
    w.offer("n1", body("in-sync"));
    await settle();
    expect(w.lastFailure).toMatch(/^403: /);
    refuse = false;
    await settle();
    await settle();
    expect(w.lastFailure).toBeUndefined();
    w.close();
  });
});

describe("break4: one node's writes never overlap", () => {
  it("a newer state offered while a slow write is in flight lands after it, not before", async () => {
    // The API server stores a PATCH when it gets to it: the first one is slow (a busy
    // apiserver, another connection), the second fast. Two writes in flight for one node can
    // land in either order, and the older state would stay (the holder writes only on change).
    const stored: string[] = [];
    let first = true;
    const api: NodeMasqueradeApi = {
      async patchStatus(_name: string, status: NodeMasqueradeStatus) {
        if (first) {
          first = false;
          await new Promise((r) => setTimeout(r, 200));
        }
        stored.push(status.health);
      },
      async create() {},
      async patchResyncRequest() {},
      async remove() {},
      async list() {
        return { items: [] };
      },
    };
    const w = new StatusWriter({
      api,
      replica: "dash-a",
      ratePerSecond: 50,
      observed: () => ({ metadata: { name: "n1" } }),
      log: silentLogger(),
    });
    w.offer("n1", body("drifted"));
    await settle();
    w.offer("n1", body("in-sync"));
    await new Promise((r) => setTimeout(r, 400));
    expect(stored.at(-1)).toBe("in-sync");
    w.close();
  });
});

describe("StatusWriter.markUnheld (a dead holder's object, written by dash-b)", () => {
  /** dash-a's object of n1 as last seen, then as the write finds it. */
  const object = (rv: string, status: Partial<NodeMasqueradeStatus>): NodeMasquerade => ({
    metadata: { name: "n1", resourceVersion: rv },
    status: {
      ...body("in-sync"),
      observedAt: "2026-01-01T00:00:00Z",
      ...status,
    } as NodeMasqueradeStatus,
  });
  const mark: StatusBody = { ...body("unknown", false), message: "replica dash-a stopped …" };
  const cases: {
    desc: string;
    input: { found: NodeMasquerade; atWrite: NodeMasquerade; queuedOwn?: boolean };
    want: { name: string; health: string; rv?: string }[];
  }[] = [
    {
      desc: "unchanged since: written unknown, conditional on its version",
      input: { found: object("7", {}), atWrite: object("7", {}) },
      want: [{ name: "n1", health: "unknown", rv: "7" }],
    },
    {
      desc: "the node reconnected elsewhere meanwhile (new holder's write): left alone",
      input: { found: object("7", {}), atWrite: object("8", { replica: "dash-c" }) },
      want: [],
    },
    {
      desc: "dash-a came back and wrote again meanwhile: left alone",
      input: { found: object("7", {}), atWrite: object("8", {}) },
      want: [],
    },
    {
      desc: "a write of dash-b's own for the node is queued: never replaced by the mark",
      input: { found: object("7", {}), atWrite: object("7", {}), queuedOwn: true },
      want: [{ name: "n1", health: "in-sync" }],
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const { api, writes } = recordingApi(new Set(["n1"]));
    let seen = input.found;
    const w = new StatusWriter({
      api,
      replica: "dash-b",
      ratePerSecond: 1,
      observed: () => seen,
      log: silentLogger(),
    });
    w.offer("other", body("in-sync")); // spends the one token: the next writes wait
    if (input.queuedOwn) w.offer("n1", { ...body("in-sync"), replica: "dash-b" });
    w.markUnheld("n1", mark);
    expect(w.queued).toBe(1);
    seen = input.atWrite;
    await new Promise((r) => setTimeout(r, 1100));
    expect(writes.filter((x) => x.name === "n1")).toEqual(want);
    w.close();
  });

  it("a 409 (changed between read and write) is a conflict, not retried", async () => {
    const { api } = recordingApi(new Set(["n1"]));
    const conflict: NodeMasqueradeApi = {
      ...api,
      patchStatus: async () => {
        throw Object.assign(new Error("conflict"), { code: 409 });
      },
    };
    const found = object("7", {});
    const w = new StatusWriter({
      api: conflict,
      replica: "dash-b",
      ratePerSecond: 5,
      observed: () => found,
      log: silentLogger(),
      retryMs: 10,
    });
    w.markUnheld("n1", mark);
    await settle();
    await settle();
    expect(w.stats).toMatchObject({ conflicts: 1, unheld: 0 });
    expect(w.queued).toBe(0);
    w.close();
  });
});

describe("a failed write retried after a newer state was written (break7)", () => {
  it("does not write the older state over it (a node that went offline is not written connected)", async () => {
    const { api, existing } = recordingApi(new Set(["n1"]));
    const written: { health: string; connected: boolean }[] = [];
    let refuseOnce = true;
    const flaky: NodeMasqueradeApi = {
      ...api,
      async patchStatus(name, status, rv) {
        // The API server throttles the first write (429), then answers.
        if (refuseOnce) {
          refuseOnce = false;
          throw Object.assign(new Error("too many requests"), { code: 429 });
        }
        written.push({ health: status.health, connected: status.connected });
        return api.patchStatus(name, status, rv);
      },
    };
    const w = retrying(flaky, 50);
    existing.add("n1");
    w.offer("n1", body("in-sync")); // refused; retried in 50 ms
    await settle();
    w.offer("n1", body("offline", false)); // its reporter went away: written at once
    await new Promise((r) => setTimeout(r, 120)); // the retry's time passed
    expect(written.at(-1)).toEqual({ health: "offline", connected: false });
    expect(w.reconnectsPending).toBe(0);
    w.close();
  });
});

// Issue 17: dash-a is alive and holds n1, but its Lease writes fail (its other writes succeed).
// The singleton holder (dash-b) marks n1 unknown as a dead holder's every sweep; dash-a wrote
// its own status back over each mark once a minute: the two replicas alternated writes of the
// same object for as long as it lasted (2 a minute per node: 333/s for 10,000 nodes).
describe("a replica whose own Lease is not renewed does not write over the singleton's mark", () => {
  const cases: { desc: string; input: { renewed: boolean }; want: { rewrites: number } }[] = [
    {
      desc: "its Lease renewed: a mark by hand is written back once",
      input: { renewed: true },
      want: { rewrites: 1 },
    },
    {
      desc: "its Lease not renewed: left as marked",
      input: { renewed: false },
      want: { rewrites: 0 },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    let now = 0;
    const { w, written, seen } = watchedWriter({
      now: () => now,
      vouched: () => input.renewed,
    });
    const writes = () => written.map((st) => `${st.replica}:${st.connected}`);
    w.offer("n1", body("in-sync"));
    await settle();
    expect(writes()).toEqual(["dash-a:true"]);
    // dash-b marks it every sweep; dash-a sees each mark on its watch, over 5 minutes.
    for (let minute = 0; minute < 5; minute++) {
      now += 61_000;
      seen.object = {
        metadata: { name: "n1", resourceVersion: `b${minute}` },
        status: { ...seen.object!.status!, connected: false, health: "unknown" },
      };
      w.observedChanged("n1");
      await settle();
      if (input.renewed) break; // a live dash-a's rewrite stands (dash-b marks it no more)
    }
    expect(writes().length - 1).toBe(want.rewrites);
    if (!input.renewed) {
      // Renewed again: its word counts once more, and it writes what it holds.
      input.renewed = true;
      w.redoDeferred();
      await settle();
      expect(writes().at(-1)).toBe("dash-a:true");
    }
    w.close();
  });
});

// A status edited by someone else is written back at most once a minute per node, measured on
// the monotonic clock: on the wall clock a step forward let the next rewrite through at once,
// a step back held every rewrite off for the step.
describe("the once-a-minute rewrite across a wall-clock step", () => {
  for (const step of [10 * 60_000, -10 * 60_000])
    it(`stepped ${step > 0 ? "forward" : "back"} 10 min: 1 s later none, 61 s later one`, async () => {
      const clocks = { wall: 1_000_000_000, mono: 0 };
      const {
        w,
        written: writes,
        seen,
      } = watchedWriter({
        now: () => clocks.wall,
        monotonic: () => clocks.mono,
      });
      /** Someone edits the health by hand; the writer sees it on its watch. */
      const edit = async () => {
        const object = seen.object!;
        seen.object = { ...object, status: { ...object.status!, health: "error" } };
        w.observedChanged("n1");
        await settle();
      };
      w.offer("n1", body("in-sync"));
      await settle();
      await edit(); // the first rewrite
      expect(writes.map((st) => st.health)).toEqual(["in-sync", "in-sync"]);
      clocks.wall += step + 1_000;
      clocks.mono += 1_000;
      await edit();
      expect(writes.length).toBe(2);
      clocks.wall += 60_000;
      clocks.mono += 60_000;
      await edit();
      expect(writes.length).toBe(3);
      w.close();
    });
});
