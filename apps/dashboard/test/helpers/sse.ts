// Follows GET /api/events (Server-Sent Events) and hands every event to a callback; shared by
// the live-events tests and the fleet benchmark.
export interface SseEvent {
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads are checked field by field.
  data: any;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export function followEvents(
  url: string,
  token: string,
  onEvent: (e: SseEvent) => void,
  signal: AbortSignal,
): void {
  void (async () => {
    const res = await fetch(`${url}/api/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal,
    });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) onEvent({ event, data: JSON.parse(data), at: Date.now() });
      }
    }
  })().catch(() => undefined);
}
