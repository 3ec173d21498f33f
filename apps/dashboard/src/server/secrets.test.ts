import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnv } from "./env.js";
import { silentLogger } from "./log.js";
import { ensureSecret } from "./secrets.js";
import { setupFromEnv } from "./setup.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "secrets-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const strong = () => randomBytes(32).toString("base64");
const start = (env: Record<string, string>) =>
  setupFromEnv(parseEnv({ IPMASQ_DATA_DIR: dir, ...env }), silentLogger());

describe("ensureSecret", () => {
  it("generates a token once, stores it 0600 and reads it back", async () => {
    const first = await ensureSecret(dir, "admin-token", { name: "X", value: undefined });
    expect(first).toMatchObject({ generated: true, source: join(dir, "admin-token") });
    expect((await stat(join(dir, "admin-token"))).mode & 0o777).toBe(0o600);
    const again = await ensureSecret(dir, "admin-token", { name: "X", value: undefined });
    expect(again).toEqual({ ...first, generated: false });
    expect(await ensureSecret(dir, "admin-token", { name: "X", value: "env" })).toEqual({
      value: "env",
      generated: false,
      source: "X",
    });
  });
});

describe("setupFromEnv refuses weak tokens at start", () => {
  const cases: { desc: string; env: () => Record<string, string>; want: RegExp }[] = [
    {
      desc: "a one-character admin token",
      env: () => ({ IPMASQ_ADMIN_TOKEN: "a" }),
      want: /IPMASQ_ADMIN_TOKEN is too short \(1 characters/,
    },
    {
      desc: "a short viewer token",
      env: () => ({ IPMASQ_VIEWER_TOKEN: "viewer" }),
      want: /IPMASQ_VIEWER_TOKEN is too short/,
    },
    {
      desc: "a repeated reporter token",
      env: () => ({ IPMASQ_REPORTER_TOKEN: "secret".repeat(8) }),
      want: /IPMASQ_REPORTER_TOKEN is one 6-character pattern repeated/,
    },
    {
      desc: "the same token for admin and viewer",
      env: () => {
        const t = strong();
        return { IPMASQ_ADMIN_TOKEN: t, IPMASQ_VIEWER_TOKEN: t };
      },
      want: /IPMASQ_ADMIN_TOKEN and IPMASQ_VIEWER_TOKEN are the same token/,
    },
  ];
  it.each(cases)("$desc", async ({ env, want }) => {
    const err = await start(env()).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(err).toMatch(want);
    expect(err).toMatch(/openssl rand -base64 32/);
  });

  it("checks tokens kept in the data dir too", async () => {
    await writeFile(join(dir, "reporter-token"), "reporter\n");
    await expect(start({})).rejects.toThrow(/reporter-token is too short/);
  });

  it("starts with generated tokens and with strong distinct ones", async () => {
    const generated = await start({});
    expect(generated.generated.map((g) => g.name)).toEqual([
      "IPMASQ_ADMIN_TOKEN",
      "IPMASQ_REPORTER_TOKEN",
    ]);
    // A new user's find: the reporter secret was printed as a token, with nothing saying it
    // must not go to nodes, which get their own (ipmasq token).
    expect(generated.generated.map((g) => g.use)).toEqual([
      "sign in with it (editor)",
      `the reporter secret: keep it here, never on a node; each node gets its own token: ipmasq token --node NAME --secret-file ${join(dir, "reporter-token")}`,
    ]);
    expect((await readFile(join(dir, "admin-token"), "utf8")).trim()).toHaveLength(43);
    await expect(
      start({
        IPMASQ_ADMIN_TOKEN: strong(),
        IPMASQ_VIEWER_TOKEN: strong(),
        IPMASQ_REPORTER_TOKEN: strong(),
      }),
    ).resolves.toMatchObject({ generated: [] });
  });
});
