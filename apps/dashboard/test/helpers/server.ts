// Starts the real dashboard server (no Next) on an ephemeral port with a file store in a
// temp dir and static tokens, plus a tiny fetch wrapper for the JSON API.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLAGS, defaultConfig, serializeConfig } from "@masq/shared";
import { nodeToken } from "@masq/shared/node-token";
import { until } from "@masq/testkit/wait";
import { afterEach, expect } from "vitest";
import { StaticPeopleAuth, StaticReporterAuth } from "../../src/server/auth/static-auth.js";
import {
  createDashboardServer,
  type DashboardOptions,
  type DashboardServer,
} from "../../src/server/http-server.js";
import { FileStore } from "../../src/server/store/file-store.js";
import { SimReporter } from "./reporter-client.js";

/** Fixed random tokens: strong enough for the dashboard's start-up check (item 9 of issue 12). */
export const TOKENS = {
  admin: "test-admin-xd6_qnkxQ0eTu3nDFSOVm1B-Q9DZmxr",
  viewer: "test-viewer-eDXJ60W3LdckmWi29iCieeIYXWxFcYpE",
  reporter: "test-reporter-NuwsNUqzEzSSoR5a1JExka6b346olYOw",
} as const;

export interface TestServer extends DashboardServer {
  dataDir: string;
  api: Api;
  /** Closes the server; the data dir stays for a restart. */
  stop(): Promise<void>;
  /** Closes the server and deletes the data dir. */
  dispose(): Promise<void>;
}

export async function startServer(
  overrides: Partial<DashboardOptions> & { dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await mkdtemp(join(tmpdir(), "ipmasq-dash-")));
  const { dataDir: _, ...rest } = overrides;
  const server = await createDashboardServer({
    store: new FileStore({ dir: dataDir, initialText: serializeConfig(defaultConfig()) }),
    flags: DEFAULT_FLAGS,
    people: new StaticPeopleAuth(TOKENS.admin, TOKENS.viewer),
    reporters: new StaticReporterAuth(TOKENS.reporter),
    defaultMetrics: false,
    ...rest,
    timings: { heartbeatMs: 5000, ...rest.timings },
  });
  return {
    ...server,
    dataDir,
    api: apiClient(server.url),
    stop: () => server.close(),
    dispose: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field.
type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiRequest {
  method?: string;
  /** Bearer token; defaults to the admin token; null sends none. */
  token?: string | null;
  body?: unknown;
  /** Raw body text (bad-input tests). */
  raw?: string;
  headers?: Record<string, string>;
}

export type Api = <T = Json>(path: string, req?: ApiRequest) => Promise<ApiResponse<T>>;

/** Saves `yaml` over the current config through the API as an admin; the PUT's answer. */
export async function saveYaml(s: { api: Api }, yaml: string): Promise<ApiResponse> {
  const cfg = (await s.api("/api/config")).body;
  return s.api("/api/config", {
    method: "PUT",
    body: { yaml, resourceVersion: cfg.resourceVersion },
  });
}

/** Saves `yaml` over config source `id` (file/NAME, configmap/NAME/KEY) as an admin; the PUT's answer. */
export async function saveSourceYaml(
  s: { api: Api },
  id: string,
  yaml: string,
): Promise<ApiResponse> {
  const path = `/api/config/sources/${encodeURIComponent(id)}`;
  const src = (await s.api(path)).body;
  return s.api(path, { method: "PUT", body: { yaml, resourceVersion: src.resourceVersion } });
}

/** Saves `yaml` over config source `id`, a save answered as not pushed; why it is not. */
export async function notPushedSave(s: { api: Api }, id: string, yaml: string): Promise<string> {
  const put = await saveSourceYaml(s, id, yaml);
  expect(put.status).toBe(200);
  expect(put.body.rollsOut).toBeNull();
  return put.body.notPushed;
}

export function apiClient(base: string): Api {
  return async (path, req = {}) => {
    const headers: Record<string, string> = { ...req.headers };
    const token = req.token === undefined ? TOKENS.admin : req.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = req.raw;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(base + path, {
      method: req.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: res.status, body: parsed as Json, headers: res.headers };
  };
}

/** The per-node reporter token the test server accepts for `node` (what `ipmasq token` prints). */
export function reporterToken(node: string): string {
  return nodeToken(TOKENS.reporter, node);
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = "condition",
): Promise<T> {
  // The test kit's `until` polls for truthy values; wrap so 0 and "" count as answers too.
  const found = await until(
    async () => {
      const v = await check();
      return v !== undefined && v !== false ? { v } : undefined;
    },
    timeoutMs,
    20,
    what,
  );
  return found!.v; // until only returns truthy values
}

/** A protocol-level reporter, connected and shown in sync by the server. */
export async function reporterInSync(server: TestServer, node: string): Promise<SimReporter> {
  const sim = await SimReporter.connect({ url: server.url, token: reporterToken(node), node });
  await eventually(
    async () => (await server.api(`/api/nodes/${node}`)).body.node?.status === "in-sync",
    10_000,
    `${node} in sync`,
  );
  return sim;
}

/**
 * The one dashboard fixture of the file-store integration tests: a server per test and what
 * the test started against it, all stopped after each test. `t.server = await
 * startServer(...)`, then `await t.connect("node-a")`; anything else a test starts is stopped
 * by `t.defer(stop)` (last deferred first), before the reporters and the server.
 */
export function perTest() {
  const deferred: (() => unknown)[] = [];
  const t = {
    server: undefined as TestServer | undefined,
    sims: [] as SimReporter[],
    /** A reporter for `node` with its own token, connected and welcomed. */
    async connect(node: string): Promise<SimReporter> {
      const s = await SimReporter.connect({ url: t.server!.url, token: reporterToken(node), node });
      t.sims.push(s);
      return s;
    },
    defer(stop: () => unknown): void {
      deferred.push(stop);
    },
  };
  afterEach(async () => {
    for (const stop of deferred.splice(0).reverse()) await stop();
    for (const s of t.sims.splice(0)) s.ws.terminate();
    await t.server?.dispose();
    t.server = undefined;
  });
  return t;
}
