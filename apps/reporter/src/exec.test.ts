import { getPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { assertNetnsExists, exec, netnsArgv, outputLines } from "./exec.js";

describe("netnsArgv", () => {
  it("wraps a command in ip netns exec", () => {
    expect(netnsArgv("imr-1", ["iptables", "-S"])).toEqual([
      "ip",
      "netns",
      "exec",
      "imr-1",
      "iptables",
      "-S",
    ]);
  });
  it("leaves the command alone without a namespace", () => {
    expect(netnsArgv(undefined, ["iptables", "-S"])).toEqual(["iptables", "-S"]);
  });
  it.each(["-n", "a b", "x;rm", "", "../x"])("refuses the namespace name %j", (name) => {
    expect(() => netnsArgv(name, ["true"])).toThrow(/invalid network namespace/);
  });
});

describe("exec", () => {
  it("passes arguments verbatim (no shell) and captures both streams", async () => {
    const r = await exec([
      "node",
      "-e",
      "console.log(process.argv[1]); console.error('e')",
      "$(echo hi); *",
    ]);
    expect(r).toMatchObject({ code: 0, stdout: "$(echo hi); *\n", stderr: "e\n", timedOut: false });
  });
  it("feeds stdin", async () => {
    const r = await exec(["cat"], { input: "payload\nline 2\n" });
    expect(r.stdout).toBe("payload\nline 2\n");
  });
  it("runs background work at the nice value asked (set before stdin is written)", async () => {
    // The shell reads stdin first, so it looks at its nice value (field 19) after setpriority.
    const argv = ["sh", "-c", "read x; cut -d' ' -f19 /proc/$$/stat"];
    expect((await exec(argv, { input: "go\n", nice: 7 })).stdout.trim()).toBe("7");
    expect((await exec(argv, { input: "go\n" })).stdout.trim()).toBe(String(getPriority()));
  });

  it("reports the exit code", async () => {
    expect((await exec(["node", "-e", "process.exit(3)"])).code).toBe(3);
  });
  it("kills a command that runs too long", async () => {
    // `sleep 600` outlives the test's own timeout: the test passes only if the command is killed.
    const r = await exec(["sleep", "600"], { timeoutMs: 100 });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBe(124);
  });
  it("kills a command whose output passes the bound and says it was cut", async () => {
    // `yes` writes forever: the test ends only if the bound stops it.
    const r = await exec(["yes"], { maxOutputBytes: 64 * 1024 });
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBeLessThanOrEqual(64 * 1024);
  });
  it("keeps output within the bound whole", async () => {
    const r = await exec(["echo", "short"], { maxOutputBytes: 64 });
    expect(r).toMatchObject({ code: 0, stdout: "short\n" });
    expect(r.truncated).toBeUndefined();
  });
  it("reports a missing program as 127", async () => {
    const r = await exec(["no-such-program-imr"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/ENOENT/);
  });
});

describe("outputLines", () => {
  it("drops empty lines", () => expect(outputLines("a\n\nb\n")).toEqual(["a", "b"]));
});

describe("assertNetnsExists", () => {
  it("names a namespace that does not exist instead of failing later", () => {
    expect(() => assertNetnsExists("does-not-exist-xyz", "/nonexistent-netns-dir")).toThrow(
      /network namespace "does-not-exist-xyz" does not exist \(`ip netns list`/,
    );
  });
  it("accepts one whose file is there", () => {
    expect(() => assertNetnsExists("tmp", "/")).not.toThrow();
  });
  it("refuses a name ip netns cannot have before looking", () => {
    expect(() => assertNetnsExists("../etc", "/")).toThrow(/invalid network namespace name/);
  });
});
