import { describe, expect, it } from "vitest";
import { firstNodeCommands } from "./no-reporters";

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
