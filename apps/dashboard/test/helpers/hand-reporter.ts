// A reporter speaking the protocol by hand over `ws`, for tests that need a frame a reporter
// sends only in a race: it offers snapshot digests, says hello, and keeps the revisions sent.
import { randomBytes } from "node:crypto";
import { CAPABILITIES_HEADER, encodeMessage, REPORTER_PATH, SNAPSHOT_DIGESTS } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import WebSocket from "ws";

export interface HandReporter {
  ws: WebSocket;
  /** The revisions of the `desired` frames received, in order. */
  desired: number[];
  /** The snapshot envelope of an apply of `revision` (v 2, taken now). */
  envelope(revision: number): { type: "snapshot"; v: 2; takenAt: number; appliedRevision: number };
  /**
   * Applies `revision`: its post-apply snapshot names its rules by a digest no dashboard holds
   * (asked for, never answered), then the ok result.
   */
  applyByUnknownDigest(revision: number): void;
}

/** Connects to the dashboard at `url` (http) with `token`, enforcing, and says hello. */
export async function handReporter(
  url: string,
  token: string,
  node: string,
): Promise<HandReporter> {
  const ws = new WebSocket(url.replace(/^http/, "ws") + REPORTER_PATH, {
    headers: { authorization: `Bearer ${token}`, [CAPABILITIES_HEADER]: SNAPSHOT_DIGESTS },
  });
  const desired: number[] = [];
  ws.on("message", (d) => {
    const m = JSON.parse(String(d));
    if (m.type === "desired") desired.push(m.revision);
  });
  await new Promise((r) => ws.once("open", r));
  ws.send(encodeMessage(helloFor(node, { mode: "enforce" })));
  const envelope = (revision: number) =>
    ({ type: "snapshot", v: 2, takenAt: Date.now(), appliedRevision: revision }) as const;
  return {
    ws,
    desired,
    envelope,
    applyByUnknownDigest(revision) {
      const unknown = `sha256:${randomBytes(32).toString("hex")}`;
      ws.send(encodeMessage({ ...envelope(revision), seq: 1, linuxDigest: unknown } as never));
      const result = { type: "apply-result", v: 2, revision, ok: true, durationMs: 2 } as const;
      ws.send(encodeMessage({ ...result, trigger: "desired", changed: true }));
    },
  };
}
