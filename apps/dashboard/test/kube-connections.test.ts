// Issue 17: the dashboard's API server traffic (status writes, Events, Lease renewals) reuses
// its connections. client-node 2.0.1 alone opens a new one per request when the kubeconfig has
// TLS options (here insecure-skip-tls-verify; in a cluster the CA): a TCP connect, and in a
// cluster a TLS handshake, per write. And it opens no more than the cap per API server, however
// many requests are in flight (a burst of TokenReviews when thousands of reporters connect).
// Real client-node against the test API server.
import { CoreV1Api } from "@kubernetes/client-node";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { afterEach, describe, expect, it } from "vitest";
import { kubeClients } from "../src/server/kube/client.js";

const NS = "kube-system";
let fake: FakeKubeApi;

afterEach(async () => {
  await fake.stop();
});

describe("connections to the API server", () => {
  const cases = [
    { desc: "client-node alone: one connection per request", reuse: false, want: [20, 20] },
    // The server may close an idle keep-alive connection between two requests: then a second.
    { desc: "the dashboard's clients: a connection kept", reuse: true, want: [1, 2] },
  ];
  for (const c of cases)
    it(c.desc, async () => {
      fake = await new FakeKubeApi().start();
      const kc = fake.kubeConfig();
      const core = c.reuse ? kubeClients(kc).core : kc.makeApiClient(CoreV1Api);
      const before = fake.connectionsAccepted;
      for (let i = 0; i < 20; i++)
        await core.readNamespacedConfigMap({ namespace: NS, name: "ip-masq-agent" });
      const opened = fake.connectionsAccepted - before;
      expect(opened).toBeGreaterThanOrEqual(c.want[0]!);
      expect(opened).toBeLessThanOrEqual(c.want[1]!);
    });

  it("keeps several requests in flight on a few connections, and a watch beside them", async () => {
    fake = await new FakeKubeApi().start();
    const clients = kubeClients(fake.kubeConfig());
    const watch = await clients.watch.watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      {},
      () => undefined,
      () => undefined,
    );
    const before = fake.connectionsAccepted;
    await Promise.all(
      Array.from({ length: 4 }, () =>
        clients.core.readNamespacedConfigMap({ namespace: NS, name: "ip-masq-agent" }),
      ),
    );
    for (let i = 0; i < 20; i++)
      await clients.core.readNamespacedConfigMap({ namespace: NS, name: "ip-masq-agent" });
    // At most one per request that was in flight at once; none after.
    expect(fake.connectionsAccepted - before).toBeLessThanOrEqual(4);
    expect(fake.openWatches).toBe(1);
    watch.abort();
  });

  it("a burst of requests far above the cap opens at most the cap and every request completes", async () => {
    fake = await new FakeKubeApi().start();
    const cap = 8;
    const clients = kubeClients(fake.kubeConfig(), cap);
    // A watch and Lease reads beside the burst have pools of their own: neither waits behind it.
    const watch = await clients.watch.watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      {},
      () => undefined,
      () => undefined,
    );
    const before = fake.connectionsAccepted;
    const [maps, leases] = await Promise.all([
      Promise.all(
        Array.from({ length: 400 }, () =>
          clients.core.readNamespacedConfigMap({ namespace: NS, name: "ip-masq-agent" }),
        ),
      ),
      Promise.all(
        Array.from({ length: 3 }, () =>
          clients.coordination.listNamespacedLease({ namespace: NS }),
        ),
      ),
    ]);
    expect(maps.filter((m) => m.metadata?.name === "ip-masq-agent")).toHaveLength(400);
    expect(leases.filter((l) => l.items.length > 0)).toHaveLength(3);
    // The cap for the 400, up to 3 for the Leases (their pool allows 4).
    expect(fake.connectionsAccepted - before).toBeLessThanOrEqual(cap + 3);
    expect(fake.connectionsAccepted - before).toBeGreaterThanOrEqual(2);
    expect(fake.openWatches).toBe(1);
    watch.abort();
  });

  it("refuses a cap below one connection", () => {
    expect(() => kubeClients(new FakeKubeApi().kubeConfig(), 0)).toThrow(/integer ≥ 1/);
  });
});
