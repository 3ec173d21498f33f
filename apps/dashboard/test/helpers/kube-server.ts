// A dashboard in Kubernetes mode, wired from the environment the Helm chart gives it exactly as
// the bin does (setupFromEnv), talking to the test API server through the real client-node.

import type { Mode } from "@masq/shared";
import { FakeKubeApi, type FakeKubeApiOptions } from "@masq/testkit/kube-api";
import { until } from "@masq/testkit/wait";
import { afterEach } from "vitest";
import { parseEnv } from "../../src/server/env.js";
import { createDashboardServer, type DashboardOptions } from "../../src/server/http-server.js";
import { silentLogger } from "../../src/server/log.js";
import { type Setup, setupFromEnv } from "../../src/server/setup.js";
import { SimReporter } from "./reporter-client.js";
import { type Api, apiClient, type TestServer, TOKENS } from "./server.js";

export interface KubeTestServer extends Omit<TestServer, "dataDir"> {
  setup: Setup;
}

/**
 * `options` override what the environment sets up; `expiry` is merged into the set-up one (so
 * the Node lookup stays), `timings` over a 5 s heartbeat. `token`: another token of the
 * dashboard's ServiceAccount (addDashboardToken), to hold this replica's watches alone.
 */
export async function startKubeServer(
  fake: FakeKubeApi,
  env: Record<string, string> = {},
  options: Partial<DashboardOptions> = {},
  token?: string,
): Promise<KubeTestServer> {
  // The environment the chart gives the dashboard, then the test's own.
  const parsed = parseEnv({
    ...fake.dashboardEnv(env.POD_NAME),
    PORT: "0",
    HOST: "127.0.0.1",
    ...env,
  });
  const setup = await setupFromEnv(parsed, silentLogger(), fake.kubeConfig(token));
  await setup.lease?.start();
  const server = await createDashboardServer({
    ...setup.options,
    defaultMetrics: false,
    ...options,
    expiry: { ...setup.options.expiry!, ...options.expiry },
    timings: { heartbeatMs: 5000, ...options.timings },
  });
  // The dashboard stamps a revision on a ConfigMap it did not write (the chart's): wait for
  // that, so a test starts from the revision it will see.
  const [ns, name] = parsed.IPMASQ_CONFIGMAP.split("/") as [string, string];
  await until(
    () =>
      !fake.configMap(ns, name) ||
      server.config.current().rev.resourceVersion ===
        fake.configMap(ns, name)?.metadata.resourceVersion,
    5000,
    10,
    "the dashboard's first resourceVersion",
  );
  const stop = async () => {
    await server.staged.flush(); // as main.ts: before the singleton Lease is released
    await setup.lease?.close();
    await server.close();
  };
  const api: Api = apiClient(server.url);
  return { ...server, setup, api, stop, dispose: stop };
}

/**
 * A reporter as the chart runs it: its ServiceAccount's projected token, bound to its node, on
 * a node the cluster has (its Node object is registered when missing, as the kubelet does).
 */
export async function kubeReporter(
  fake: FakeKubeApi,
  server: { url: string },
  node: string,
  opts: { mode?: Mode } = {},
): Promise<SimReporter> {
  const token = kubeReporterToken(fake, node);
  return SimReporter.connect({ url: server.url, token, node, ...opts });
}

/** The projected token of `node`'s reporter, its Node registered when missing (as the kubelet). */
export function kubeReporterToken(fake: FakeKubeApi, node: string): string {
  if (!fake.node(node)) fake.addNode(node);
  const token = `sa-token-${node}`;
  fake.addToken(
    token,
    {
      username: fake.chart?.reporterUser ?? "system:serviceaccount:kube-system:ipmasq-reporter",
      extra: { "authentication.kubernetes.io/node-name": [node] },
    },
    ["ipmasq-dashboard"],
  );
  return token;
}

/**
 * The one dashboard fixture of the Kubernetes-mode integration tests: one test API server per
 * test with the dashboards and reporters started on it, all stopped after each test. Call at
 * the top of a test file.
 */
export function kubeTestCluster() {
  let fake: FakeKubeApi | undefined;
  const servers: KubeTestServer[] = [];
  const sims: SimReporter[] = [];
  const deferred: (() => unknown)[] = [];
  afterEach(async () => {
    for (const stop of deferred.splice(0).reverse()) await stop();
    for (const s of sims.splice(0)) s.ws.terminate();
    for (const s of servers.splice(0)) await s.stop();
    await fake?.stop();
    fake = undefined;
  });
  const api = () => {
    if (!fake) throw new Error("no test API server: call cluster() first");
    return fake;
  };
  return {
    /** Starts the test API server (the chart installed with these options). */
    async cluster(opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
      fake = await new FakeKubeApi(opts).start();
      return fake;
    },
    get fake(): FakeKubeApi {
      return api();
    },
    /**
     * A dashboard as the chart runs it, with the admin token for the test's API calls
     * (`IPMASQ_ADMIN_TOKEN: ""` in `env` starts it without one, as the chart does); `token`:
     * its own token of the ServiceAccount (startKubeServer).
     */
    async start(
      env: Record<string, string> = {},
      options: Partial<DashboardOptions> = {},
      token?: string,
    ): Promise<KubeTestServer> {
      const env1 = { IPMASQ_ADMIN_TOKEN: TOKENS.admin, ...env };
      const s = await startKubeServer(api(), env1, options, token);
      servers.push(s);
      return s;
    },
    /** Stops one dashboard now (a restart, a hand-over). */
    async stop(s: KubeTestServer): Promise<void> {
      servers.splice(servers.indexOf(s), 1);
      await s.stop();
    },
    async reporter(s: { url: string }, node: string, opts: { mode?: Mode } = {}) {
      const r = await kubeReporter(api(), s, node, opts);
      sims.push(r);
      return r;
    },
    /** Stops something else the test started (electors, timers), last deferred first. */
    defer(stop: () => unknown): void {
      deferred.push(stop);
    },
  };
}
