// A dashboard whose event loop is busy for a few seconds (a large push, a GC pause) is alive:
// it answers every ping once its loop runs again. The reporter must not drop it.
// The dashboard runs in a child process so its loop really blocks (ws answers pings in its
// frame parser, which a blocked loop does not run either).
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { helloFor } from "@masq/testkit/fixtures";
import { sleep, until } from "@masq/testkit/wait";
import { afterEach, expect, it } from "vitest";
import { createLink, type Link } from "../src/link.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const wsPath = createRequire(import.meta.url).resolve("ws");

/**
 * A dashboard that, `afterPingMs` after the `nth` ping it sees, blocks its event loop for
 * `blockMs` (once). Prints its port, then "blocked" and "unblocked".
 */
function busyDashboard(o: { nth: number; afterPingMs: number; blockMs: number }) {
  const src = `
    const { WebSocketServer } = require(${JSON.stringify(wsPath)});
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    let pings = 0, done = false;
    wss.on("listening", () => console.log("port " + wss.address().port));
    wss.on("connection", (s) => {
      console.log("connection");
      s.on("ping", () => {
        pings++; console.log("ping " + Date.now());
        if (pings === ${o.nth} && !done) {
          done = true;
          setTimeout(() => {
            console.log("blocked");
            const end = Date.now() + ${o.blockMs};
            while (Date.now() < end) {}
            console.log("unblocked");
          }, ${o.afterPingMs});
        }
      });
    });`;
  const child: ChildProcess = spawn(process.execPath, ["-e", src], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanups.push(() => child.kill("SIGKILL"));
  const lines: string[] = [];
  child.stdout!.setEncoding("utf8").on("data", (d: string) => lines.push(...d.trim().split("\n")));
  return {
    lines,
    port: async () => {
      await until(() => lines.some((l) => l.startsWith("port ")), 5_000);
      return Number(lines.find((l) => l.startsWith("port "))!.slice(5));
    },
  };
}

it("keeps a link to a dashboard whose event loop is busy for 3 s (default liveness)", async () => {
  // The reporter pings every 1.5 s when idle and declares the dashboard dead after 5 s since
  // the last frame or pong. A block that starts just before the next ping (1.4 s after the
  // last) and lasts 3 s delays that ping's pong to ~4.4 s after the last: kept. A block of
  // more than ~3.5 s in that phase is taken for a lost replica (docs/scale-out.md says so: a
  // 10 s move after a lost replica leaves no more room); the push that blocks longest measured
  // 0.4 s at 5,000 nodes (liveness benchmark).
  const d = busyDashboard({ nth: 2, afterPingMs: 1_400, blockMs: 3_000 });
  const port = await d.port();
  const l: Link = createLink({
    url: `ws://127.0.0.1:${port}/api/reporter`,
    hello: () => helloFor("node-busy"),
    onMessage: () => undefined,
  });
  cleanups.push(() => l.close());
  await until(() => d.lines.includes("unblocked"), 15_000);
  await sleep(1_000);
  // The dashboard was alive throughout: one connection, never dropped.
  expect({
    ...l.stats(),
    connections: d.lines.filter((x) => x === "connection").length,
  }).toMatchObject({
    connects: 1,
    disconnects: 0,
    connections: 1,
  });
}, 30_000);
