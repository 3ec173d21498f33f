import { describe, expect, it } from "vitest";
import { firstNodeCommands, noReportersText, RECONNECT_WINDOW_MS } from "./no-reporters";

describe("firstNodeCommands", () => {
  it("derives the node's token first (a reporter needs its own), then runs the reporter with it", () => {
    expect(firstNodeCommands("wss", "dash.example:3000")).toEqual([
      "ipmasq token --node NODE_NAME --secret-file DATA_DIR/reporter-token --out NODE_NAME.token",
      "ipmasq run --dashboard wss://dash.example:3000/api/reporter --node NODE_NAME --token-file NODE_NAME.token",
    ]);
  });
});

describe("firstNodeCommands: the address as one shell word", () => {
  const cases: { desc: string; input: string; want: string }[] = [
    {
      desc: "an IPv6 host's brackets are a glob (zsh: no matches found): quoted",
      input: "[::1]:3000",
      want: "--dashboard 'ws://[::1]:3000/api/reporter' --node",
    },
    { desc: "a plain host as it is", input: "dash:3000", want: "--dashboard ws://dash:3000/api/" },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => expect(firstNodeCommands("ws", input)[1]).toContain(want));
});

describe("noReportersText: a new install, or reporters reconnecting after a restart", () => {
  const started = 1_764_000_000_000;
  const rollout = (unseen?: number) =>
    ({ unseen }) as unknown as NonNullable<Parameters<typeof noReportersText>[0]>["rollout"];
  const cases: {
    desc: string;
    input: Parameters<typeof noReportersText>;
    want: { title: RegExp; reconnecting: RegExp | null };
  }[] = [
    {
      desc: "no summary yet: the setup steps",
      input: [null, started],
      want: { title: /^No reporters have connected yet$/, reconnecting: null },
    },
    {
      desc: "started 20 s ago: reporters may be reconnecting",
      input: [{ startedAt: started, rollout: null }, started + 20_000],
      want: {
        title: /since the dashboard started/,
        reconnecting: /^The dashboard started 20s ago\. After a restart, reporters reconnect/,
      },
    },
    {
      desc: "long after the start: a fleet without reporters",
      input: [{ startedAt: started, rollout: null }, started + RECONNECT_WINDOW_MS + 1000],
      want: { title: /^No reporters have connected yet$/, reconnecting: null },
    },
    {
      desc: "long after, a resumed rollout still counting 3 nodes not back",
      input: [{ startedAt: started, rollout: rollout(3) }, started + 10 * 60_000],
      want: {
        title: /since the dashboard started/,
        reconnecting: /counts 3 nodes that have not reconnected/,
      },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const got = noReportersText(...input);
      expect(got.title).toMatch(want.title);
      if (want.reconnecting === null) expect(got.reconnecting).toBeNull();
      else expect(got.reconnecting).toMatch(want.reconnecting);
    });
});
