// A staged rollout's state written by an owner that lost the singleton Lease must not overwrite
// its successor's (issue 17, rollout safety): the write is conditional on the text the replica
// last read or wrote, and the replace carries the resourceVersion of the read that found it, so
// a write queued (or already on the wire) when the Lease was lost is refused once another
// replica has written. Two KubeStores against the test API server through the real
// @kubernetes/client-node.
import type { CoreV1Api } from "@kubernetes/client-node";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { afterEach, describe, expect, it } from "vitest";
import { type KubeClients, kubeClients } from "../src/server/kube/client.js";
import { silentLogger } from "../src/server/log.js";
import { MovePendingError, RolloutFencedError } from "../src/server/store/kube-rollout.js";
import { KubeStore } from "../src/server/store/kube-store.js";

const NS = "kube-system";
const HISTORY = "ip-masq-agent-history";
let fake: FakeKubeApi | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function storeOf(clients: KubeClients): KubeStore {
  return new KubeStore({
    clients,
    namespace: NS,
    name: "ip-masq-agent",
    historyName: HISTORY,
    initialText: "",
    log: silentLogger(),
    recreate: true,
  });
}

/**
 * Clients whose next ConfigMap replace, once armed, first runs `between` (another replica's
 * write landing between this one's read and its replace).
 */
function racing(f: FakeKubeApi, between: () => Promise<void>) {
  const clients = kubeClients(f.kubeConfig());
  let armed = false;
  let raced = false;
  const core = new Proxy(clients.core, {
    get(target, key, receiver) {
      if (key !== "replaceNamespacedConfigMap") return Reflect.get(target, key, receiver);
      return async (...a: Parameters<CoreV1Api["replaceNamespacedConfigMap"]>) => {
        if (armed && !raced) {
          raced = true;
          await between();
        }
        return target.replaceNamespacedConfigMap(...a);
      };
    },
  });
  return { clients: { ...clients, core }, arm: () => (armed = true), raced: () => raced };
}

const stored = () => JSON.parse(fake!.configMap(NS, HISTORY)?.data?.["rollout.json"] ?? "null");
const state = (by: string, step: number) => ({ version: 2, by, step });

describe("the rollout state's write is fenced", () => {
  it("an old owner's queued write after its successor wrote: refused, the successor's kept", async () => {
    fake = await new FakeKubeApi().start();
    const old = storeOf(kubeClients(fake.kubeConfig()));
    const next = storeOf(kubeClients(fake.kubeConfig()));
    expect(await old.loadRollout()).toBeNull();
    await old.saveRollout(state("old", 0));
    // The Lease passes: the new owner reads the state and goes on from it.
    expect(await next.loadRollout()).toEqual(state("old", 0));
    await next.saveRollout(state("next", 1));
    await expect(old.saveRollout(state("old", 2))).rejects.toBeInstanceOf(RolloutFencedError);
    expect(stored()).toEqual(state("next", 1));
    // The new owner's own writes go on (over the text it wrote).
    await next.saveRollout(state("next", 2));
    expect(stored()).toEqual(state("next", 2));
  });

  it("a write already in flight (read done, replace not sent) when the successor writes: 409, then refused", async () => {
    fake = await new FakeKubeApi().start();
    const next = storeOf(kubeClients(fake.kubeConfig()));
    // The successor's write lands between the old owner's read and its replace.
    const race = racing(fake, async () => {
      expect(await next.loadRollout()).toEqual(state("old", 0));
      await next.saveRollout(state("next", 1));
    });
    const old = storeOf(race.clients);
    await old.loadRollout();
    await old.saveRollout(state("old", 0));
    race.arm();
    await expect(old.saveRollout(state("old", 1))).rejects.toBeInstanceOf(RolloutFencedError);
    expect(race.raced()).toBe(true);
    expect(stored()).toEqual(state("next", 1));
    const conflicts = fake.requests.filter(
      (r) => r.path.includes(`/configmaps/${HISTORY}`) && r.status === 409,
    );
    expect(conflicts).toHaveLength(1);
  });
});

describe("move requests from two replicas at once", () => {
  const ask = (id: string, user: string, via: string) => ({
    id,
    action: "promote",
    user,
    via,
    resourceVersion: "7",
    at: Date.now(),
    step: 0,
  });
  const request = () => JSON.parse(fake!.configMap(NS, HISTORY)?.data?.["rollout-request.json"]);

  it("the later is refused while the earlier waits for the owner, even when both read none", async () => {
    fake = await new FakeKubeApi().start();
    const b = storeOf(kubeClients(fake.kubeConfig()));
    const race = racing(fake, () => b.saveRolloutRequest(ask("r-b", "bob", "dash-b")));
    const c = storeOf(race.clients);
    race.arm();
    const refused = c.saveRolloutRequest(ask("r-c", "carol", "dash-c"));
    await expect(refused).rejects.toBeInstanceOf(MovePendingError);
    await expect(refused).rejects.toThrow(
      /^another move \(promote by bob \(via replica dash-b\)\) is waiting for the rollout's owner/,
    );
    expect(race.raced()).toBe(true);
    expect(request()).toMatchObject({ id: "r-b" });
    // Once the owner performed it, the next move may be asked.
    fake.kubectlEdit(NS, HISTORY, {
      "rollout.json": JSON.stringify({ version: 2, performed: "r-b", current: null, past: [] }),
    });
    await c.saveRolloutRequest(ask("r-c2", "carol", "dash-c"));
    expect(request()).toMatchObject({ id: "r-c2" });
  });
});
