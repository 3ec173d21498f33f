import { describe, expect, it } from "vitest";
import { parseDemoEnv } from "./demo-env.js";

describe("the demo's environment", () => {
  const cases: {
    desc: string;
    input: Record<string, string>;
    want: ReturnType<typeof parseDemoEnv> | RegExp;
  }[] = [
    { desc: "unset: defaults", input: {}, want: { host: "127.0.0.1" } },
    {
      desc: "empty means unset",
      input: { DEMO_PORT: "", PORT: " ", HOST: "", IPMASQ_ADMIN_TOKEN: "" },
      want: { host: "127.0.0.1" },
    },
    { desc: "DEMO_PORT", input: { DEMO_PORT: "3100" }, want: { host: "127.0.0.1", port: 3100 } },
    { desc: "PORT", input: { PORT: "3200" }, want: { host: "127.0.0.1", port: 3200 } },
    {
      desc: "DEMO_PORT before PORT",
      input: { DEMO_PORT: "3100", PORT: "3200" },
      want: { host: "127.0.0.1", port: 3100 },
    },
    {
      desc: "an empty DEMO_PORT leaves PORT",
      input: { DEMO_PORT: "", PORT: "3200" },
      want: { host: "127.0.0.1", port: 3200 },
    },
    { desc: "not a number", input: { DEMO_PORT: "abc" }, want: /DEMO_PORT.*"abc".*port/ },
    { desc: "hex is not a port", input: { DEMO_PORT: "0x50" }, want: /DEMO_PORT/ },
    { desc: "out of range", input: { PORT: "70000" }, want: /PORT.*"70000".*1–65535/ },
    { desc: "port 0 (no fixed address)", input: { DEMO_PORT: "0" }, want: /DEMO_PORT/ },
    {
      desc: "host and admin token",
      input: { HOST: " 0.0.0.0 ", IPMASQ_ADMIN_TOKEN: "tok" },
      want: { host: "0.0.0.0", adminToken: "tok" },
    },
    { desc: "a host with a space", input: { HOST: "local host" }, want: /HOST/ },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    if (want instanceof RegExp) expect(() => parseDemoEnv(input)).toThrow(want);
    else expect(parseDemoEnv(input)).toEqual(want);
  });
});
