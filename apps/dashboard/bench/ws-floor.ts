// The transport floor under the fleet benchmark's per-node figure (issue 17), in a child
// process: a bare `ws` server with the gateway's options, doing nothing with what it receives,
// or N bare `ws` clients answering every frame as a reporter answers a desired config — the
// post-apply snapshot (the memory backend's, as the fleet benchmark's reporters send it) and
// the apply-result, in one tick. WS_FLOOR_ROLE=server: answers {port}; "cpu" →
// process.cpuUsage; {push: true} → sends one desired-sized frame to every client (500 per
// event-loop turn, as FleetState.pushTo) and answers {pushed} once both replies of every
// client arrived. WS_FLOOR_ROLE=clients: {start: {port, count, localAddress}} → {ready}.
import { createMemoryBackend } from "@masq/reporter/backend/memory";
import {
  createReporterDecoder,
  DEFAULT_FLAGS,
  defaultConfig,
  encodeMessage,
  type FamilySnapshot,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  ValidatedRules,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import WebSocket, { WebSocketServer } from "ws";

const SLICE = 500;
const DECODE = process.env.WS_FLOOR_DECODE === "1";

async function frames(): Promise<{ desired: Buffer; snapshot: string; applyResult: string }> {
  const config = defaultConfig();
  const backend = createMemoryBackend({ flags: DEFAULT_FLAGS });
  await backend.apply(config, "desired");
  const desired = {
    type: "desired",
    v: PROTOCOL_VERSION,
    revision: 2,
    resourceVersion: "2",
    config,
  };
  const snapshot = {
    type: "snapshot",
    v: PROTOCOL_VERSION,
    seq: 1,
    takenAt: Date.now(),
    linux: await backend.read(),
    appliedRevision: 2,
  };
  const applyResult = {
    type: "apply-result",
    v: PROTOCOL_VERSION,
    revision: 2,
    ok: true,
    durationMs: 3.2,
    trigger: "desired",
    changed: true,
  };
  return {
    desired: Buffer.from(encodeMessage(desired as never)),
    snapshot: encodeMessage(snapshot as never),
    applyResult: encodeMessage(applyResult as never),
  };
}

function server(): void {
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeflate: false,
    maxPayload: MAX_FRAME_BYTES,
  });
  let received = 0;
  let target = Number.POSITIVE_INFINITY;
  let pushed: (() => void) | undefined;
  // WS_FLOOR_DECODE=1: each frame through the gateway's decoder (JSON, schema, known rules).
  const rules = new ValidatedRules<FamilySnapshot[]>();
  wss.on("connection", (ws) => {
    const decoder = createReporterDecoder({ validatedRules: rules });
    ws.on("message", (data: Buffer) => {
      if (DECODE && !decoder.decode(data).ok) throw new Error("a frame the decoder refuses");
      if (++received >= target) pushed?.();
    });
  });
  wss.on("listening", () => {
    const address = wss.address();
    process.send?.({ port: typeof address === "string" || address === null ? 0 : address.port });
  });
  process.on("message", async (m: unknown) => {
    if (m === "cpu") return process.send?.(process.cpuUsage());
    if (m === "stop") return wss.close(() => process.exit(0));
    const { desired } = await frames();
    const clients = [...wss.clients];
    received = 0;
    target = 2 * clients.length;
    const done = new Promise<void>((r) => {
      pushed = r;
    });
    const step = (from: number) => {
      for (const ws of clients.slice(from, from + SLICE)) ws.send(desired, { binary: false });
      if (from + SLICE < clients.length) setImmediate(step, from + SLICE);
    };
    step(0);
    await done;
    target = Number.POSITIVE_INFINITY;
    process.send?.({ pushed: received });
  });
}

function clients(): void {
  const open: WebSocket[] = [];
  process.on("message", async (m: unknown) => {
    if (m === "stop") {
      for (const ws of open) ws.terminate();
      return process.exit(0);
    }
    const { port, count, localAddress } = (
      m as { start: { port: number; count: number; localAddress: string } }
    ).start;
    const { snapshot, applyResult } = await frames();
    for (let i = 0; i < count; i += 250) {
      const batch = Array.from({ length: Math.min(250, count - i) }, () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
          perMessageDeflate: false,
          localAddress,
        });
        ws.on("message", () => {
          ws.send(snapshot);
          ws.send(applyResult);
        });
        open.push(ws);
        const name = `node-${open.length}`;
        ws.once("open", () => ws.send(encodeMessage(helloFor(name))));
        return new Promise((r) => ws.once("open", r));
      });
      await Promise.all(batch);
    }
    process.send?.({ ready: open.length });
  });
}

if (process.env.WS_FLOOR_ROLE === "server") server();
else clients();
