import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPORTER_VERSION } from "./version.js";

it("reports the package's version in hello", () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../package.json"), "utf8")) as {
    version: string;
  };
  expect(REPORTER_VERSION).toBe(pkg.version);
});
