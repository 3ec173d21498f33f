// Text a store keeps (a config's or source's YAML, a save's message) must be well-formed
// Unicode: a lone surrogate was held in memory as sent but written to disk as U+FFFD, so the
// text changed after a restart. Refused at the HTTP boundary with a 400 saying why.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileSources } from "../src/server/store/file-sources.js";
import { perTest, startServer } from "./helpers/server.js";

const t = perTest();
const PLATFORM = encodeURIComponent("file/ip-masq-platform");
const LONE = "\ud800";
const YAML = "nonMasqueradeCIDRs: [10.0.0.0/8]\n";

async function server() {
  const dataDir = await mkdtemp(join(tmpdir(), "ipmasq-dash-"));
  await writeFile(join(dataDir, "ip-masq-platform"), "nonMasqueradeCIDRs: [100.64.0.0/10]\n");
  const sources = new FileSources({ dir: dataDir, prefix: "ip-masq-", pollMs: 30 });
  t.server = await startServer({ dataDir, sources });
  return t.server;
}

type Body = Record<string, unknown>;
const refused: {
  desc: string;
  input: { method: "PUT" | "POST"; path: string; body: (rv: string) => Body };
  want: { field: string };
}[] = [
  {
    desc: "a config's yaml",
    input: {
      method: "PUT",
      path: "/api/config",
      body: (rv) => ({ yaml: `# ${LONE}\n${YAML}`, resourceVersion: rv }),
    },
    want: { field: "yaml" },
  },
  {
    desc: "a save's message",
    input: {
      method: "PUT",
      path: "/api/config",
      body: (rv) => ({ yaml: YAML, resourceVersion: rv, message: `fix ${LONE}` }),
    },
    want: { field: "message" },
  },
  {
    desc: "a trailing high surrogate with no low one",
    input: {
      method: "PUT",
      path: "/api/config",
      body: (rv) => ({ yaml: YAML, resourceVersion: rv, message: "x\udbff" }),
    },
    want: { field: "message" },
  },
  {
    desc: "a lone low surrogate in a validated yaml",
    input: {
      method: "POST",
      path: "/api/config/validate",
      body: () => ({ yaml: `# \udc00\n${YAML}` }),
    },
    want: { field: "yaml" },
  },
  {
    desc: "a rollback's message",
    input: {
      method: "POST",
      path: "/api/history/1/rollback",
      body: (rv) => ({ resourceVersion: rv, message: LONE }),
    },
    want: { field: "message" },
  },
  {
    desc: "a source's yaml",
    input: {
      method: "PUT",
      path: `/api/config/sources/${PLATFORM}`,
      body: (rv) => ({ yaml: `# ${LONE}\n${YAML}`, resourceVersion: rv }),
    },
    want: { field: "yaml" },
  },
  {
    desc: "a source save's message",
    input: {
      method: "PUT",
      path: `/api/config/sources/${PLATFORM}`,
      body: (rv) => ({ yaml: YAML, resourceVersion: rv, message: LONE }),
    },
    want: { field: "message" },
  },
];

describe("text a store keeps is well-formed Unicode", () => {
  for (const c of refused)
    it(`refuses ${c.desc} holding a lone surrogate with a 400`, async () => {
      const s = await server();
      const cfg = (await s.api("/api/config")).body.resourceVersion;
      const src = (await s.api(`/api/config/sources/${PLATFORM}`)).body.resourceVersion;
      const saved = (await s.api("/api/history")).body.revisions.length;
      const rv = c.input.path.includes("/sources/") ? src : cfg;
      const r = await s.api(c.input.path, { method: c.input.method, body: c.input.body(rv) });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(new RegExp(`${c.want.field}: not well-formed Unicode`));
      // Nothing was saved.
      expect((await s.api("/api/config")).body.resourceVersion).toBe(cfg);
      expect((await s.api(`/api/config/sources/${PLATFORM}`)).body.resourceVersion).toBe(src);
      expect((await s.api("/api/history")).body.revisions.length).toBe(saved);
    });

  it("keeps well-formed text beyond ASCII (a surrogate pair, accents) as sent", async () => {
    const s = await server();
    const rv = (await s.api("/api/config")).body.resourceVersion;
    const message = "déploiement 🚀";
    const yaml = `# réseau 🚀\n${YAML}`;
    const r = await s.api("/api/config", {
      method: "PUT",
      body: { yaml, resourceVersion: rv, message },
    });
    expect(r.status).toBe(200);
    const cur = (await s.api("/api/config")).body;
    expect(cur.yaml).toBe(yaml);
    expect((await s.api("/api/history")).body.revisions[0].message).toBe(message);
  });
});
