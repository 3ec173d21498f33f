// A dashboard that is stopping refuses reporter connections from the moment its stop begins:
// accepted while its kept files were written for the last time, a reporter told its unheard
// heals to a dashboard that kept nothing of them, and forgot them (found trying the demo).
import { sleep } from "@masq/node-util";
import { REPORTER_PATH } from "@masq/shared";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { reporterToken, startServer } from "./helpers/server.js";

/** The HTTP status and body an upgrade gets, or how it ended without one. */
function tryUpgrade(url: string, node: string): Promise<{ status: number; body: string } | string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}${REPORTER_PATH}`, {
      headers: { authorization: `Bearer ${reporterToken(node)}` },
    });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("open", () => {
      ws.terminate();
      resolve("opened");
    });
    ws.on("error", (e) => resolve(`error: ${e.message}`));
  });
}

describe("a stopping dashboard", () => {
  it("accepts reporters until its stop begins, then refuses them 503 saying why", async () => {
    const server = await startServer();
    try {
      expect(await tryUpgrade(server.url, "node-a")).toBe("opened");
      // The stop held where it writes its last state, long enough to connect meanwhile.
      const flush = server.staged.flush.bind(server.staged);
      server.staged.flush = () => sleep(1000).then(flush);
      const stopped = server.stop();
      const r = await tryUpgrade(server.url, "node-b");
      await stopped;
      expect(r).toEqual({
        status: 503,
        body: JSON.stringify({ error: "the dashboard is shutting down; retry" }),
      });
    } finally {
      await server.dispose();
    }
  });
});
