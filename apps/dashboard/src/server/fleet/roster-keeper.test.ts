import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helloFor } from "@masq/testkit/fixtures";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { rosterFile } from "../store/roster-file.js";
import { atomicWrite } from "../util/atomic-write.js";
import { ROSTER_FILE, type RosterEntry, rosterText } from "./node-roster.js";
import {
  ROSTER_SEEN_STEP_MS,
  ROSTER_WRITE_EVERY_MS,
  type RosterFile,
  RosterKeeper,
} from "./roster-keeper.js";

const entry = (name: string, lastSeenAt = 1_000): RosterEntry => {
  const { type: _t, v: _v, ...hello } = helloFor(name);
  return { hello, lastSeenAt, appliedRevision: 1, status: "in-sync", summary: "in sync" };
};

/** A roster file in memory: its writes, and a write that fails while `fail` is set. */
function memFile(text: string | null = null) {
  const f = { text, writes: [] as string[], fail: undefined as string | undefined, aside: 0 };
  const file: RosterFile = {
    path: "/data/nodes.json",
    read: async () => f.text,
    write: async (t) => {
      if (f.fail) throw new Error(f.fail);
      f.writes.push(t);
    },
    setAside: async () => {
      f.aside++;
      return "/data/nodes.json.bad-1";
    },
  };
  return { f, file };
}

/** `file` whose first write is under way until `open()` is called. */
function gatedFirstWrite(file: RosterFile): { held: RosterFile; open: () => void } {
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let first = true;
  const held: RosterFile = {
    ...file,
    write: async (t) => {
      if (first) {
        first = false;
        await gate;
      }
      await file.write(t);
    },
  };
  return { held, open };
}

function keeper(file: RosterFile, entries: () => RosterEntry[]) {
  const clock = { now: 0 };
  const k = new RosterKeeper({ file, entries, log: silentLogger(), now: () => clock.now });
  /** Lets the write a tick started settle. */
  const tick = async () => {
    k.tick();
    await new Promise((r) => setImmediate(r));
  };
  return { k, clock, tick };
}

describe("RosterKeeper writes", () => {
  it("writes only when the fleet changed, at most once per ROSTER_WRITE_EVERY_MS", async () => {
    const { f, file } = memFile();
    let nodes = [entry("a")];
    const { k, clock, tick } = keeper(file, () => nodes);
    await tick();
    expect(f.writes).toEqual([rosterText(nodes)]);
    nodes = [entry("a"), entry("b")];
    k.changed();
    clock.now += ROSTER_WRITE_EVERY_MS - 1;
    await tick();
    expect(f.writes).toHaveLength(1); // throttled
    clock.now += 1;
    await tick();
    expect(f.writes).toHaveLength(2);
    k.changed(); // a row changed that the roster does not keep: the same text is not written
    clock.now += ROSTER_WRITE_EVERY_MS;
    await tick();
    expect(f.writes).toHaveLength(2);
    clock.now += ROSTER_WRITE_EVERY_MS;
    await tick(); // nothing changed: not even looked at
    expect(f.writes).toHaveLength(2);
  });

  // A dashboard with no node wrote an empty roster at its first tick: pointless, and a test
  // removing its data dir while it ran raced that write (ENOTEMPTY).
  it("writes nothing while there was no roster and there is no node", async () => {
    const { f, file } = memFile(null);
    let nodes: RosterEntry[] = [];
    const { k, clock, tick } = keeper(file, () => nodes);
    expect(await k.load()).toEqual([]);
    await tick();
    expect(f.writes).toEqual([]);
    nodes = [entry("a")];
    k.changed();
    clock.now += ROSTER_WRITE_EVERY_MS;
    await tick();
    expect(f.writes).toEqual([rosterText(nodes)]);
  });

  // A node removed by hand (DELETE) came back after a crash within the throttle's window.
  it("writeNow writes past the throttle, after a write under way, and resolves once written", async () => {
    const { f, file } = memFile();
    let nodes = [entry("a"), entry("b")];
    const { held, open } = gatedFirstWrite(file);
    const { k } = keeper(held, () => nodes);
    k.tick();
    nodes = [entry("a")];
    const done = k.writeNow();
    await new Promise((r) => setImmediate(r));
    expect(f.writes).toEqual([]);
    open();
    await done;
    expect(f.writes).toEqual([rosterText([entry("a"), entry("b")]), rosterText([entry("a")])]);
  });

  it("writeNow calls waiting for a write under way share one write, built after all of them", async () => {
    const { f, file } = memFile();
    let nodes = Array.from({ length: 20 }, (_, i) => entry(`n${i}`));
    let builds = 0;
    const { held, open } = gatedFirstWrite(file);
    const { k } = keeper(held, () => {
      builds++;
      return nodes;
    });
    k.tick();
    // 20 nodes removed by hand at once, each DELETE waiting for its writeNow.
    const done = Array.from({ length: 20 }, (_, i) => {
      nodes = nodes.filter((n) => n.hello.node !== `n${i}`);
      return k.writeNow();
    });
    open();
    await Promise.all(done);
    expect(builds).toBe(2);
    expect(f.writes.at(-1)).toBe(rosterText([]));
    // A call once that write began gets a write of its own.
    nodes = [entry("late")];
    await k.writeNow();
    expect(f.writes.at(-1)).toBe(rosterText([entry("late")]));
  });

  it("looks again once a seen step passed (connected nodes' floored last seen times)", async () => {
    const { f, file } = memFile();
    let seen = 0;
    const { clock, tick } = keeper(file, () => [entry("a", seen)]);
    await tick();
    seen = ROSTER_SEEN_STEP_MS;
    clock.now += ROSTER_SEEN_STEP_MS - 1;
    await tick();
    expect(f.writes).toHaveLength(1);
    clock.now += 1;
    await tick();
    expect(f.writes).toHaveLength(2);
  });

  it("says a failed write in problems() and writes again at the next turn", async () => {
    const { f, file } = memFile();
    const { k, clock, tick } = keeper(file, () => [entry("a")]);
    f.fail = "ENOSPC: no space left on device";
    await tick();
    expect(k.problems()).toEqual([expect.stringMatching(/could not be written \(ENOSPC/)]);
    f.fail = undefined;
    clock.now += ROSTER_WRITE_EVERY_MS;
    await tick();
    expect(f.writes).toHaveLength(1);
    expect(k.problems()).toEqual([]);
  });

  it("flush writes last seen times exact (a seen step of 1 ms)", async () => {
    const { f, file } = memFile();
    const steps: number[] = [];
    const entries = (step: number) => {
      steps.push(step);
      return [entry("a")];
    };
    await new RosterKeeper({ file, entries, log: silentLogger() }).flush();
    expect(steps).toEqual([1]);
    expect(f.writes).toHaveLength(1);
  });
});

describe("RosterKeeper load", () => {
  it("restores the entries of a good roster", async () => {
    const { file } = memFile(rosterText([entry("a")]));
    expect(await keeper(file, () => []).k.load()).toEqual([entry("a")]);
  });

  it("starts with none without a roster, and says nothing", async () => {
    const { k } = keeper(memFile(null).file, () => []);
    expect(await k.load()).toEqual([]);
    expect(k.problems()).toEqual([]);
  });

  it("refuses a bad roster: none restored, a problem said, the file moved aside", async () => {
    const { f, file } = memFile('{"version":1,"nodes":[{"hello":{}}]}');
    const { k } = keeper(file, () => []);
    expect(await k.load()).toEqual([]);
    expect(f.aside).toBe(1);
    expect(k.problems()).toEqual([
      expect.stringMatching(
        /nodes\.json could not be read \(nodes\.json is not a node roster: nodes\.0\.hello.*moved aside to \/data\/nodes\.json\.bad-1\)/,
      ),
    ]);
  });
});

describe("rosterFile", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses a file over the bound unread, and moves it aside, never deleting it", async () => {
    dir = await mkdtemp(join(tmpdir(), "roster-"));
    const file = rosterFile(dir, atomicWrite);
    await writeFile(join(dir, ROSTER_FILE), "x".repeat(2048));
    await expect(file.read(1024)).rejects.toThrow(/is 2048 bytes, over the 1024 allowed/);
    const k = new RosterKeeper({ file, entries: () => [], log: silentLogger() });
    await expect(k.load()).resolves.toEqual([]);
    const names = await readdir(dir);
    expect(names).not.toContain(ROSTER_FILE);
    const aside = names.find((n) => n.startsWith(`${ROSTER_FILE}.bad-`));
    expect(aside && (await readFile(join(dir, aside), "utf8"))).toBe("x".repeat(2048));
  });

  it("refuses a roster that is no regular file (a FIFO) unopened, and moves it aside", async () => {
    // Read, a FIFO held the start forever (no writer ever came); a device (/dev/zero) is
    // endless. Neither holds a roster.
    dir = await mkdtemp(join(tmpdir(), "roster-"));
    const file = rosterFile(dir, atomicWrite);
    execFileSync("mkfifo", [join(dir, ROSTER_FILE)]);
    await expect(file.read(1024)).rejects.toThrow(/is not a regular file/);
    const k = new RosterKeeper({ file, entries: () => [], log: silentLogger() });
    await expect(k.load()).resolves.toEqual([]);
    expect(k.problems()).toEqual([expect.stringMatching(/not a regular file.*moved aside/)]);
    expect(await readdir(dir)).not.toContain(ROSTER_FILE);
    await symlink("/dev/zero", join(dir, ROSTER_FILE));
    await expect(file.read(1024)).rejects.toThrow(/is not a regular file/);
  });

  it("writes atomically and reads back; none is null", async () => {
    dir = await mkdtemp(join(tmpdir(), "roster-"));
    const file = rosterFile(dir, atomicWrite);
    expect(await file.read(1024)).toBeNull();
    await file.write(rosterText([entry("a")]));
    expect(await file.read(1 << 20)).toBe(rosterText([entry("a")]));
  });
});
