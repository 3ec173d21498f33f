import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./log.js";

/** The JSON lines a logger writes. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, dest };
}

describe("createLogger", () => {
  it("writes ISO 8601 times (UTC) and level words, as the reporter does, not pino's numbers", () => {
    const { lines, dest } = capture();
    createLogger("info", dest).info("reporter connected");
    expect(lines[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(lines[0]?.msg).toBe("reporter connected");
    expect(lines[0]?.level).toBe("info");
  });

  it("redacts tokens and credentials", () => {
    const { lines, dest } = capture();
    createLogger("info", dest).info(
      { token: "abc", req: { headers: { authorization: "Bearer x", cookie: "s=1" } } },
      "login",
    );
    expect(JSON.stringify(lines[0])).not.toMatch(/abc|Bearer x|s=1/);
  });
});
