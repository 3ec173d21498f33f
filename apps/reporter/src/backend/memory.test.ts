import { DEFAULT_FLAGS, defaultConfig, jumpRuleLine } from "@masq/shared";
import { describe, expect, it, vi } from "vitest";
import { createMemoryBackend } from "./memory.js";

const config = defaultConfig();

describe("memory backend", () => {
  it("creates the chain and one jump, like the real node", async () => {
    const b = createMemoryBackend({ flags: DEFAULT_FLAGS });
    const o = await b.apply(config, "startup");
    expect(o).toMatchObject({ ok: true, changed: true });
    expect(b.state().chain?.[0]).toBe("-N IP-MASQ-AGENT");
    expect(
      b.state().chain?.some((l) => l.includes("-d 10.0.0.0/8") && l.endsWith("-j RETURN")),
    ).toBe(true);
    expect(b.state().postrouting.filter((l) => l === jumpRuleLine("IP-MASQ-AGENT"))).toHaveLength(
      1,
    );
  });

  it("does not write again when nothing changed, and keeps one jump across config changes", async () => {
    const b = createMemoryBackend({ flags: DEFAULT_FLAGS });
    await b.apply(config, "startup");
    expect((await b.apply(config, "periodic")).changed).toBe(false);
    for (let i = 0; i < 5; i++)
      await b.apply({ ...config, nonMasqueradeCIDRs: [`10.${i}.0.0/16`] }, "desired");
    expect(b.writes()).toBe(6);
    expect(b.state().postrouting.filter((l) => l.endsWith("-j IP-MASQ-AGENT"))).toHaveLength(1);
    expect(b.state().chain?.filter((l) => l.includes("-d 10.4.0.0/16"))).toHaveLength(1);
  });

  it("refuses an invalid config and keeps the rules", async () => {
    const b = createMemoryBackend({ flags: DEFAULT_FLAGS });
    await b.apply(config, "startup");
    const before = b.state();
    const o = await b.apply({ ...config, nonMasqueradeCIDRs: ["10.0.0.1/8"] }, "desired");
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/not aligned/);
    expect(b.state()).toEqual(before);
  });

  it("tells watchers about edits and removes duplicate jumps on the next apply", async () => {
    const b = createMemoryBackend({ flags: DEFAULT_FLAGS });
    await b.apply(config, "startup");
    const seen = vi.fn();
    const w = b.watch(seen);
    b.edit("ipv4", (s) => s.postrouting.push(jumpRuleLine("IP-MASQ-AGENT")));
    await Promise.resolve();
    expect(seen).toHaveBeenCalledWith("event");
    w.close();
    await b.apply(config, "heal");
    expect(b.state().postrouting.filter((l) => l.endsWith("-j IP-MASQ-AGENT"))).toHaveLength(1);
  });

  it("manages IPv6 too when enabled", async () => {
    const flags = { ...DEFAULT_FLAGS, enableIPv6: true };
    const b = createMemoryBackend({ flags });
    await b.apply({ ...config, nonMasqueradeCIDRs: ["10.0.0.0/8", "fd00::/8"] }, "startup");
    expect((await b.read()).map((s) => s.family)).toEqual(["ipv4", "ipv6"]);
    expect(b.state("ipv6").chain?.some((l) => l.includes("fd00::/8"))).toBe(true);
  });
});

describe("memory backend refusals", () => {
  it("refuses to write with an unusable --to-ports flag instead of crashing", async () => {
    const b = createMemoryBackend({ flags: { ...DEFAULT_FLAGS, toPorts: "2000-1000" } });
    const o = await b.apply(config, "startup");
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/to-ports/);
    expect(b.writes()).toBe(0);
  });
});
