// Server-Sent Events to browsers. Each event is serialized once for all clients; a client
// that cannot keep up (its buffer grows past a few MB) is dropped and reconnects, getting a
// fresh `hello` snapshot instead of an ever-growing backlog.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type HelloEvent, type LiveEvents, type LongTimer, setLongInterval } from "@masq/shared";

const MAX_BUFFERED = 4 * 1024 * 1024;

export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly keepalive: LongTimer;

  constructor(keepaliveMs = 15_000) {
    this.keepalive = setLongInterval(() => this.write(": keepalive\n\n"), keepaliveMs).unref();
  }

  get size(): number {
    return this.clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse, hello: HelloEvent): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`retry: 2000\n${frame("hello", hello)}`);
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    req.on("close", drop);
    res.on("close", drop);
  }

  send<K extends keyof LiveEvents>(event: K, data: LiveEvents[K]): void {
    if (this.clients.size > 0) this.write(frame(event, data));
  }

  close(): void {
    this.keepalive.clear();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private write(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
