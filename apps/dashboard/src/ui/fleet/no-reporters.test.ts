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
