// A dashboard in Kubernetes mode, wired from the environment the Helm chart gives it exactly as
// the bin does (setupFromEnv), talking to the test API server through the real client-node.

import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { until } from "@masq/testkit/wait";
import { parseEnv } from "../../src/server/env.js";
import { createDashboardServer, type Timings } from "../../src/server/http-server.js";
import { silentLogger } from "../../src/server/log.js";
import { type Setup, setupFromEnv } from "../../src/server/setup.js";
import { SimReporter } from "./reporter-client.js";
import type { TestServer } from "./server.js";
import { type Api, apiClient } from "./server.js";

export interface KubeTestServer extends Omit<TestServer, "dataDir"> {
  setup: Setup;
}

export async function startKubeServer(
  fake: FakeKubeApi,
  env: Record<string, string> = {},
  timings: Partial<Timings> = {},
): Promise<KubeTestServer> {
  // The environment the chart gives the dashboard, then the test's own.
  const parsed = parseEnv({
    ...fake.dashboardEnv(env.POD_NAME),
    PORT: "0",
    HOST: "127.0.0.1",
    ...env,
  });
  const setup = await setupFromEnv(parsed, silentLogger(), fake.kubeConfig());
  await setup.lease?.start();
  const server = await createDashboardServer({
    ...setup.options,
    defaultMetrics: false,
    timings: { heartbeatMs: 5000, ...timings },
  });
  // The dashboard stamps a generation on a ConfigMap it did not write (the chart's): wait for
  // that, so a test starts from the revision it will see.
  const [ns, name] = parsed.IPMASQ_CONFIGMAP.split("/") as [string, string];
  await until(
    () =>
      !fake.configMap(ns, name) ||
      server.config.current().rev.revision === fake.configMap(ns, name)?.metadata.resourceVersion,
    5000,
    10,
    "the dashboard's first revision",
  );
  const stop = async () => {
    await setup.lease?.close();
    await server.close();
  };
  const api: Api = apiClient(server.url);
  return { ...server, setup, api, stop, dispose: stop };
}

/** A reporter as the chart runs it: its ServiceAccount's projected token, bound to its node. */
export async function kubeReporter(
  fake: FakeKubeApi,
  server: { url: string },
  node: string,
  opts: { mode?: "enforce" | "observe" } = {},
): Promise<SimReporter> {
  const token = `sa-token-${node}`;
  fake.addToken(
    token,
    {
      username: fake.chart?.reporterUser ?? "system:serviceaccount:kube-system:ipmasq-reporter",
      extra: { "authentication.kubernetes.io/node-name": [node] },
    },
    ["ipmasq-dashboard"],
  );
  return SimReporter.connect({ url: server.url, token, node, ...opts });
}
