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
import { RolloutFencedError } from "../src/server/store/kube-rollout.js";
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
    const clients = kubeClients(fake.kubeConfig());
    let armed = false;
    let raced = false;
    // The successor's write lands between the old owner's read and its replace.
    const core = new Proxy(clients.core, {
      get(target, key, receiver) {
        if (key !== "replaceNamespacedConfigMap") return Reflect.get(target, key, receiver);
        return async (...a: Parameters<CoreV1Api["replaceNamespacedConfigMap"]>) => {
          if (armed && !raced) {
            raced = true;
            expect(await next.loadRollout()).toEqual(state("old", 0));
            await next.saveRollout(state("next", 1));
          }
          return target.replaceNamespacedConfigMap(...a);
        };
      },
    });
    const old = storeOf({ ...clients, core });
    await old.loadRollout();
    await old.saveRollout(state("old", 0));
    armed = true;
    await expect(old.saveRollout(state("old", 1))).rejects.toBeInstanceOf(RolloutFencedError);
    expect(raced).toBe(true);
    expect(stored()).toEqual(state("next", 1));
    const conflicts = fake.requests.filter(
      (r) => r.path.includes(`/configmaps/${HISTORY}`) && r.status === 409,
    );
    expect(conflicts).toHaveLength(1);
  });
});
