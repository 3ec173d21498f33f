// Server-Sent Events to browsers. Each event is serialized and encoded once for all clients;
// a client that cannot keep up (its buffer grows past a few MB) is dropped and reconnects,
// getting a fresh `hello` snapshot instead of an ever-growing backlog.
//
// A stream lives no longer than the right to read it: it ends at once when its session ends
// (logout, expiry, eviction) and, for every stream, when a periodic re-check of its
// credentials fails (a revoked token). The browser then reconnects, gets 401 and signs in.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type HelloEvent, type LiveEvents, type LongTimer, setLongInterval } from "@masq/shared";

const MAX_BUFFERED = 4 * 1024 * 1024;

/** Whose stream it is. */
export interface StreamOwner {
  /** The session it was opened with (cookie auth); absent for bearer tokens. */
  session?: string;
  /** Whether the credentials it was opened with still allow reading. */
  stillAllowed: () => Promise<boolean>;
}

export class SseHub {
  private readonly clients = new Map<ServerResponse, StreamOwner>();
  private readonly keepalive: LongTimer;
  private readonly recheck: LongTimer;

  constructor(keepaliveMs = 15_000, recheckMs = 60_000) {
    this.keepalive = setLongInterval(() => this.write(": keepalive\n\n"), keepaliveMs).unref();
    this.recheck = setLongInterval(() => void this.recheckAll(), recheckMs).unref();
  }

  get size(): number {
    return this.clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse, hello: HelloEvent, owner: StreamOwner): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`retry: 2000\n${frame("hello", hello)}`);
    this.clients.set(res, owner);
    const drop = () => this.clients.delete(res);
    req.on("close", drop);
    res.on("close", drop);
  }

  send<K extends keyof LiveEvents>(event: K, data: LiveEvents[K]): void {
    if (this.clients.size > 0) this.write(frame(event, data));
  }

  /** Ends the streams opened with this session. */
  endSession(id: string): void {
    for (const [res, owner] of this.clients) if (owner.session === id) this.end(res);
  }

  close(): void {
    this.keepalive.clear();
    this.recheck.clear();
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
  }

  /** Ends every stream whose credentials no longer allow reading. */
  async recheckAll(): Promise<void> {
    await Promise.all(
      [...this.clients].map(async ([res, owner]) => {
        const ok = await owner.stillAllowed().catch(() => true); // unreachable auth: keep
        if (!ok) this.end(res);
      }),
    );
  }

  private end(res: ServerResponse): void {
    this.clients.delete(res);
    res.end();
  }

  private write(text: string): void {
    // Encoded once for every stream: a string would be measured and encoded again per stream.
    const bytes = this.clients.size > 1 ? Buffer.from(text) : text;
    for (const res of this.clients.keys()) {
      if (res.writableLength > MAX_BUFFERED) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(bytes);
    }
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
