// A dashboard replica as the Deployment runs it — the built bin, its own process, every replica
// active — against the test API server through the real client-node.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { type ChildHandle, startDashboardProcess } from "@masq/testkit/processes";
import { until } from "@masq/testkit/wait";
import { type Api, apiClient, TOKENS } from "./server.js";

export interface Replica {
  pod: string;
  port: number;
  url: string;
  api: Api;
  proc: ChildHandle;
}

/**
 * Starts replica `pod` on `port`, its log and kubeconfig in `dir`; `token`: one of the
 * dashboard's tokens (FakeKubeApi.addDashboardToken) to tell its requests apart. `cleanup`
 * is given its stop.
 */
export function replicaProcess(
  fake: FakeKubeApi,
  o: { pod: string; port: number; dir: string; token?: string },
  cleanup: (stop: () => unknown) => void,
): Replica {
  const kubeconfig = join(o.dir, `${o.pod}.kubeconfig`);
  writeFileSync(kubeconfig, fake.kubeConfig(o.token).exportConfig());
  const proc = startDashboardProcess({
    logFile: join(o.dir, `${o.pod}.log`),
    env: {
      ...fake.dashboardEnv(o.pod),
      KUBECONFIG: kubeconfig,
      PORT: String(o.port),
      HOST: "127.0.0.1",
      IPMASQ_ADMIN_TOKEN: TOKENS.admin,
      IPMASQ_REPLICA_SYNC: "true",
      IPMASQ_LOG_LEVEL: "info",
    },
  });
  cleanup(() => proc.stop());
  const url = `http://127.0.0.1:${o.port}`;
  return { pod: o.pod, port: o.port, url, api: apiClient(url), proc };
}

/** Waits until `r` answers /readyz 200. */
export const ready = (r: Replica) =>
  until(
    async () => (await r.api("/readyz", { token: null }).catch(() => undefined))?.status === 200,
    20_000,
    100,
    `${r.pod} ready`,
  );
