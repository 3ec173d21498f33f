// Which reporter connection speaks for each node. A second connection for a node never silently
// replaces a live first one. When one arrives, the first is asked for a WebSocket pong: if it
// answers, it is live and the newcomer is refused (a duplicate or an impostor); if it does not
// answer within the probe time, or closes, it is a leftover of a network blip (a half-open
// socket that would linger until the heartbeat timeout) and the newcomer takes over. So the
// same reporter reconnecting after a blip waits at most one probe, and nobody can push a live
// reporter off its node.
import type { WebSocket } from "ws";

export type Claim = "granted" | "conflict";

export class NodeClaims {
  private readonly holders = new Map<string, WebSocket>();
  /** Nodes whose holder is being probed: a third connection meanwhile is refused. */
  private readonly probing = new Set<string>();

  constructor(private readonly probeMs: number) {}

  /** Resolves whether `ws` may speak for `node`; when granted, `ws` holds it until release. */
  async claim(node: string, ws: WebSocket): Promise<Claim> {
    if (this.probing.has(node)) return "conflict";
    const holder = this.holders.get(node);
    if (holder && holder !== ws && holder.readyState === holder.OPEN) {
      this.probing.add(node);
      try {
        if (await answers(holder, this.probeMs)) return "conflict";
      } finally {
        this.probing.delete(node);
      }
      holder.terminate();
    }
    if (ws.readyState !== ws.OPEN) return "conflict"; // left while we waited
    this.holders.set(node, ws);
    return "granted";
  }

  /** `ws` closed: it no longer holds its node (a newer holder is left alone). */
  release(node: string, ws: WebSocket): void {
    if (this.holders.get(node) === ws) this.holders.delete(node);
  }
}

/** Whether `ws` answers a ping within `ms` (any frame from it counts as an answer too). */
function answers(ws: WebSocket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (alive: boolean) => {
      clearTimeout(timer);
      ws.off("pong", onAlive);
      ws.off("message", onAlive);
      ws.off("close", onClose);
      resolve(alive);
    };
    const onAlive = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    ws.on("pong", onAlive);
    ws.on("message", onAlive);
    ws.on("close", onClose);
    try {
      ws.ping();
    } catch {
      done(false);
    }
  });
}
