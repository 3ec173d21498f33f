import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimRun, demoPort, netnsName, reapStaleRuns, releasePort } from "./demo-runs.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "demo-runs-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("demo runs side by side", () => {
  it("gives each run its own namespace names and directory, recorded before any namespace exists", () => {
    const a = claimRun(root, 4101, 4);
    const b = claimRun(root, 4102, 4);
    expect(a.netns).toEqual([1, 2, 3, 4].map((i) => `masq-demo-4101-${i}`));
    expect(b.netns.some((n) => a.netns.includes(n))).toBe(false);
    expect(a.dir).not.toBe(b.dir);
    expect(readFileSync(join(a.dir, "netns"), "utf8").trim().split("\n")).toEqual(a.netns);
    expect(readFileSync(join(a.dir, "owner"), "utf8").trim()).toBe("4101");
    // Linux allows namespace names of any length, but `ip netns` lists them: keep them short.
    expect(netnsName("4194304", 4).length).toBeLessThan(32);
  });

  const cases = [
    {
      desc: "a run whose process is gone: its namespaces deleted, its directory removed",
      alive: [] as number[],
      want: { reaped: ["4101"], deleted: ["masq-demo-4101-1", "masq-demo-4101-2"] },
    },
    {
      desc: "a run whose process lives: never touched",
      alive: [4101],
      want: { reaped: [], deleted: [] },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const run = claimRun(root, 4101, 2);
      const deleted: string[] = [];
      const killed: number[] = [];
      // What the killed demo left running: its dashboard (the run's data dir in its environment)
      // and a reporter (its state dir on the command line); and an unrelated process.
      const proc = join(root, "proc");
      const fakeProcess = (pid: number, cmdline: string, environ: string) => {
        mkdirSync(join(proc, String(pid)), { recursive: true });
        writeFileSync(join(proc, String(pid), "cmdline"), cmdline.replaceAll(" ", "\0"));
        writeFileSync(join(proc, String(pid), "environ"), environ.replaceAll(" ", "\0"));
      };
      fakeProcess(7001, "node ipmasq-dashboard.js", `PORT=3000 IPMASQ_DATA_DIR=${run.dir}/data`);
      fakeProcess(7002, `node main.js run --state-dir ${run.dir}/state/demo-node-1`, "HOME=/root");
      fakeProcess(7003, "node ipmasq-dashboard.js", `IPMASQ_DATA_DIR=${run.dir}0/data`);
      const reaped = reapStaleRuns(root, {
        alive: (pid) => c.alive.includes(pid),
        deleteNetns: (n) => deleted.push(n),
        kill: (pid) => killed.push(pid),
        procRoot: proc,
      });
      expect({ reaped, deleted }).toEqual(c.want);
      expect(killed.sort()).toEqual(c.alive.length > 0 ? [] : [7001, 7002]);
      expect(existsSync(run.dir)).toBe(c.alive.length > 0);
    });

  it("leaves alone its own run, a run still being set up (no owner yet), and names that are not its own", () => {
    const mine = claimRun(root, 4200, 1);
    mkdirSync(join(root, "runs", "4300"));
    writeFileSync(join(root, "runs", "4300", "netns"), "masq-demo-4300-1\n");
    const odd = join(root, "runs", "4400");
    mkdirSync(odd);
    writeFileSync(join(odd, "owner"), "4400\n");
    writeFileSync(join(odd, "netns"), "kube-node-ns\nmasq-demo-4400-1\n");
    const deleted: string[] = [];
    const reaped = reapStaleRuns(root, {
      alive: () => false,
      deleteNetns: (n) => deleted.push(n),
      kill: () => undefined,
      except: mine.id,
      procRoot: join(root, "no-proc"),
    });
    expect(reaped).toEqual(["4400"]);
    expect(deleted).toEqual(["masq-demo-4400-1"]);
    expect(existsSync(mine.dir)).toBe(true);
    expect(existsSync(join(root, "runs", "4300"))).toBe(true);
  });

  it("takes the first port free and unclaimed, so two demos started at once get two", async () => {
    // 3000 is taken by another program; the check yields, so both demos run it at once.
    const free = async (_host: string, port: number) => {
      await new Promise((r) => setTimeout(r, 5));
      return port !== 3000;
    };
    const live = new Set([4501, 4502]);
    const o = { host: "127.0.0.1", alive: (pid: number) => live.has(pid), free };
    const [a, b] = await Promise.all([
      demoPort(root, { ...o, pid: 4501 }),
      demoPort(root, { ...o, pid: 4502 }),
    ]);
    expect([a, b].sort()).toEqual([3001, 3002]);
    expect(readFileSync(join(root, "ports", String(a)), "utf8").trim()).toBe("4501");
    expect(existsSync(join(root, "ports", "3000"))).toBe(false); // not kept for a busy port
    // Released: the next demo may take it; a dead demo's claim is taken over.
    releasePort(root, a, 4501);
    live.add(4503);
    expect(await demoPort(root, { ...o, pid: 4503 })).toBe(a);
    live.delete(4502); // killed without releasing its port
    expect(await demoPort(root, { ...o, pid: 4504 })).toBe(b);
    expect(await demoPort(root, { ...o, pid: 4505, wanted: 3000 })).toBe(3000);
  });

  it("break6: a claim another demo created and has not written its pid into yet is not taken over", async () => {
    mkdirSync(join(root, "ports"), { recursive: true });
    writeFileSync(join(root, "ports", "3000"), ""); // created (wx), pid not written yet
    const got = await demoPort(root, {
      host: "127.0.0.1",
      alive: (pid) => pid === 4601,
      pid: 4601,
      free: async () => true,
    });
    // Read as "holder 0, gone", the claim was removed and the port taken: both demos on 3000.
    expect(got).toBe(3001);
  });

  it("finds a port in use by another program taken", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const taken = (busy.address() as { port: number }).port;
    try {
      const got = await demoPort(root, {
        host: "127.0.0.1",
        alive: () => false,
        pid: 1,
        from: taken,
      });
      expect(got).toBeGreaterThan(taken);
    } finally {
      busy.close();
    }
  });
});
