// A `wss://` dashboard behind a TLS proxy whose certificate a private CA signed (issue 17): the
// reporter connects when given the CA bundle (`--dashboard-ca`, read by the CLI's own parser) and
// not without it. A local HTTPS server with the real `ws` stands in for the proxy.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helloFor } from "@masq/testkit/fixtures";
import { privateCa } from "@masq/testkit/tls";
import { sleep, until } from "@masq/testkit/wait";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { dashboardCaFrom } from "../src/cli/link-options.js";
import { createLink, type Link } from "../src/link.js";

const ca = privateCa();
const dir = mkdtempSync(join(tmpdir(), "link-tls-"));
const caFile = join(dir, "ca.crt");
writeFileSync(caFile, ca.caPem);
let https: Server;
let url = "";
const hellos: string[] = [];
const links: Link[] = [];

beforeAll(async () => {
  https = createServer({ cert: ca.serverCert, key: ca.serverKey });
  const wss = new WebSocketServer({ server: https, path: "/api/reporter" });
  wss.on("connection", (socket) =>
    socket.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string; node?: string };
      if (m.type === "hello") hellos.push(m.node ?? "");
    }),
  );
  await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
  url = `wss://127.0.0.1:${(https.address() as AddressInfo).port}/api/reporter`;
});

afterAll(async () => {
  for (const l of links) await l.close();
  https.closeAllConnections();
  await new Promise((r) => https.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function link(node: string, ws?: { ca: string[] }): Link {
  const l = createLink({
    url,
    hello: () => helloFor(node),
    onMessage: () => undefined,
    backoff: { initialMs: 50, maxMs: 200 },
    ...(ws ? { ws } : {}),
  });
  links.push(l);
  return l;
}

it("connects to a privately signed wss:// dashboard with --dashboard-ca", async () => {
  const l = link("node-ca", { ca: dashboardCaFrom(caFile) });
  await until(() => hellos.includes("node-ca"), 5_000, 50, "the hello over wss");
  expect(l.connected).toBe(true);
});

it("does not connect without it: the public roots do not know the private CA", async () => {
  const l = link("node-public");
  await sleep(800); // several tries at 50–200 ms
  expect(l.stats().connects).toBe(0);
  expect(hellos).not.toContain("node-public");
});
