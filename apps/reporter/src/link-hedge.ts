// Connect attempts raced after a dashboard replica went silent. Its Service endpoint stays
// listed until Kubernetes marks the pod not ready (about 40 s after a node vanishes), so a
// reconnect through the Service can land on it again; a connection there never completes its
// handshake. Rather than wait out the handshake timeout, another attempt starts after `hedgeMs`
// (kube-proxy picks an endpoint per connection), and the first to open wins.
import type WebSocket from "ws";

export interface HedgeOptions {
  /** A further attempt when none has opened within this long (ms). */
  hedgeMs: number;
  /** Attempts at most (1: no hedging). */
  max: number;
}

/**
 * Opens sockets from `open` until one completes its handshake, then terminates the others and
 * calls `done(winner)`; `done(undefined)` when every attempt failed. Returns a cancel function
 * that terminates every attempt still pending (`done` is not called after it).
 */
export function hedgedOpen(
  open: () => WebSocket,
  opts: HedgeOptions,
  done: (ws: WebSocket | undefined) => void,
): () => void {
  const pending = new Set<WebSocket>();
  let started = 0;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;

  const settle = (ws: WebSocket | undefined) => {
    settled = true;
    clearTimeout(timer);
    for (const s of pending) if (s !== ws) s.terminate();
    pending.clear();
    done(ws);
  };

  const attempt = () => {
    const s = open();
    started++;
    pending.add(s);
    s.once("open", () => {
      if (settled) return void s.terminate();
      s.removeListener("close", onFailed);
      settle(s);
    });
    const onFailed = () => {
      pending.delete(s);
      if (!settled && pending.size === 0 && started >= opts.max) settle(undefined);
      else if (!settled && pending.size === 0) next();
    };
    s.on("error", () => {}); // the attempt ends with its close
    s.once("close", onFailed);
    if (started < opts.max) timer = setTimeout(next, opts.hedgeMs);
  };

  const next = () => {
    clearTimeout(timer);
    if (!settled && started < opts.max) attempt();
  };

  attempt();
  return () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    for (const s of pending) s.terminate();
    pending.clear();
  };
}
