import { masqConfigSchema } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeZodError } from "./body.js";

describe("describeZodError", () => {
  it("names unknown fields with their path and other problems with theirs", () => {
    const schema = z.strictObject({ revision: z.string(), config: masqConfigSchema.optional() });
    const r = schema.safeParse({
      revision: 1,
      extra: true,
      config: {
        ...{
          nonMasqueradeCIDRs: [],
          masqLinkLocal: false,
          masqLinkLocalIPv6: false,
          cidrLimit: 1,
          resyncInterval: "1s",
        },
        bogus: 1,
      },
    });
    expect(r.success).toBe(false);
    const text = describeZodError(r.error!);
    expect(text).toContain('unknown field "extra"');
    expect(text).toContain('unknown field "config.bogus"');
    expect(text).toMatch(/revision: .*string/);
  });
});
