// A staged rollout's state written by an owner that lost the singleton Lease must not overwrite
// its successor's (issue 17, rollout safety): an owner claims the rollout before reading it (the
// owner epoch on the history ConfigMap goes one up), and every write is conditional on its own
// epoch and on the text it last read or wrote, checked on a read whose resourceVersion the
// replace carries, so a write queued (or already on the wire) when the Lease was lost is refused
// once another replica has claimed it, even when the successor wrote the same bytes. Two
// KubeStores against the test API server through the real @kubernetes/client-node.
import type { CoreV1Api } from "@kubernetes/client-node";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { afterEach, describe, expect, it } from "vitest";
import { SeenRequests } from "../src/server/fleet/staged-request.js";
import { type KubeClients, kubeClients } from "../src/server/kube/client.js";
import { silentLogger } from "../src/server/log.js";
import {
  MovePendingError,
  RolloutFencedError,
  RolloutHeldError,
  saveKubeRequest,
} from "../src/server/store/kube-rollout.js";
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
/** How an owner reads the state: claiming it first (StagedRollouts when it holds the Lease). */
const claim = (s: KubeStore, owner: string) => s.loadRollout({ owner });
const epoch = () =>
  fake!.configMap(NS, HISTORY)?.metadata?.annotations?.["ipmasq.dev/rollout-owner-epoch"];

describe("the rollout state's write is fenced", () => {
  it("an old owner's queued write after its successor wrote: refused, the successor's kept", async () => {
    fake = await new FakeKubeApi().start();
    const old = storeOf(kubeClients(fake.kubeConfig()));
    const next = storeOf(kubeClients(fake.kubeConfig()));
    expect(await claim(old, "dash-a")).toBeNull();
    await old.saveRollout(state("old", 0));
    // The Lease passes: the new owner claims and reads the state and goes on from it.
    expect(await claim(next, "dash-b")).toEqual(state("old", 0));
    expect(epoch()).toBe("2");
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
      expect(await claim(next, "dash-b")).toEqual(state("old", 0));
      await next.saveRollout(state("next", 1));
    });
    const old = storeOf(race.clients);
    await claim(old, "dash-a");
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

  // break7: the fence compared text, so a successor writing back the very bytes it read (its
  // takeover write of an unchanged state) let the old owner's next write land over it.
  /** dash-a owned the rollout and wrote; dash-b took it over (claimed and read it). */
  async function handedOver(): Promise<{ old: KubeStore; next: KubeStore }> {
    fake = await new FakeKubeApi().start();
    const old = storeOf(kubeClients(fake.kubeConfig()));
    const next = storeOf(kubeClients(fake.kubeConfig()));
    await claim(old, "dash-a");
    await old.saveRollout(state("old", 0));
    expect(await claim(next, "dash-b")).toEqual(state("old", 0));
    return { old, next };
  }

  it("a takeover write byte for byte the old owner's: the old owner's next write still refused", async () => {
    const { old, next } = await handedOver();
    await next.saveRollout(state("old", 0));
    await expect(old.saveRollout(state("old", 1))).rejects.toBeInstanceOf(RolloutFencedError);
    expect(stored()).toEqual(state("old", 0));
  });

  it("the successor claimed but has written nothing yet: the old owner's write refused", async () => {
    // Read after the claim: nothing the old owner writes from now on can be missed by dash-b.
    const { old } = await handedOver();
    await expect(old.saveRollout(state("old", 1))).rejects.toBeInstanceOf(RolloutFencedError);
    expect(stored()).toEqual(state("old", 0));
    const cm = fake!.configMap(NS, HISTORY);
    expect(cm?.metadata?.annotations?.["ipmasq.dev/rollout-owner"]).toBe("dash-b");
  });

  // break7: the epoch annotation removed (a hand edit, a GitOps tool owning the ConfigMap's
  // metadata): the next claim counts from 0 again, and the epoch of an earlier owner comes back.
  it("the epoch annotation removed: a deposed owner whose epoch comes round again is still refused", async () => {
    const { old, next } = await handedOver(); // dash-a claimed epoch 1, dash-b epoch 2
    const core = kubeClients(fake!.kubeConfig()).core;
    const cm = await core.readNamespacedConfigMap({ namespace: NS, name: HISTORY });
    const { "ipmasq.dev/rollout-owner-epoch": _, ...kept } = cm.metadata?.annotations ?? {};
    await core.replaceNamespacedConfigMap({
      namespace: NS,
      name: HISTORY,
      body: { ...cm, metadata: { ...cm.metadata, annotations: kept } },
    });
    // dash-b's write is refused (not its epoch); it claims the rollout anew: epoch 1 again.
    await expect(next.saveRollout(state("next", 1))).rejects.toBeInstanceOf(RolloutFencedError);
    expect(await claim(next, "dash-b")).toEqual(state("old", 0));
    expect(epoch()).toBe("1");
    await expect(old.saveRollout(state("old", 1))).rejects.toBeInstanceOf(RolloutFencedError);
    expect(stored()).toEqual(state("old", 0));
    await next.saveRollout(state("next", 1));
    expect(stored()).toEqual(state("next", 1));
  });

  it("a claim in flight when a history write lands: retried, the revisions kept", async () => {
    fake = await new FakeKubeApi().start();
    const other = storeOf(kubeClients(fake.kubeConfig()));
    await claim(other, "dash-a");
    await other.saveRollout(state("a", 0));
    const race = racing(fake, async () => {
      const data = fake!.configMap(NS, HISTORY)?.data;
      fake!.kubectlEdit(NS, HISTORY, { ...data, other: "kept" });
    });
    const next = storeOf(race.clients);
    race.arm();
    expect(await claim(next, "dash-b")).toEqual(state("a", 0));
    expect(race.raced()).toBe(true);
    expect(epoch()).toBe("2");
    expect(fake.configMap(NS, HISTORY)?.data?.other).toBe("kept");
  });
});

describe("a move request written over one no owner performed", () => {
  it("names it, for the owner to record as not performed", async () => {
    fake = await new FakeKubeApi().start();
    const clients = kubeClients(fake.kubeConfig());
    const o = { core: clients.core, namespace: NS, name: HISTORY, create: true };
    let now = 0;
    const seen = new SeenRequests(() => now);
    await claim(storeOf(clients), "dash-a");
    const state = { version: 2, current: { resourceVersion: "7" }, past: [] };
    fake.kubectlEdit(NS, HISTORY, { "rollout.json": JSON.stringify(state) });
    const ask = (id: string, user: string) => ({
      id,
      action: "promote",
      user,
      via: "dash-b",
      resourceVersion: "7",
      at: 0,
      step: 0,
    });
    await saveKubeRequest(o, ask("r-1", "bob"), seen);
    await expect(saveKubeRequest(o, ask("r-2", "carol"), seen)).rejects.toBeInstanceOf(
      MovePendingError,
    );
    now = 31_000; // no owner performed it for 30 s, by this replica's clock
    await saveKubeRequest(o, ask("r-2", "carol"), seen);
    const written = JSON.parse(fake.configMap(NS, HISTORY)?.data?.["rollout-request.json"] ?? "");
    expect(written).toMatchObject({
      id: "r-2",
      replaces: { id: "r-1", action: "promote", user: "bob", via: "dash-b", step: 0 },
    });
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

// Two dashboards without leader election both act as the rollout's owner: each claimed the
// rollout again whenever its write was refused, and they took it from each other at every
// write. One holding no Lease (yieldTo) now claims it only once the recorded owner has not
// renewed its record (claimed or written) since it last looked.
describe("a claim by a dashboard holding no Lease", () => {
  it("is refused while the recorded owner renews the rollout, and made once it stopped", async () => {
    fake = await new FakeKubeApi().start();
    const a = storeOf(kubeClients(fake.kubeConfig()));
    const b = storeOf(kubeClients(fake.kubeConfig()));
    await claim(a, "dash-a");
    await a.saveRollout(state("a", 0));
    const first = await b.loadRollout({ owner: "dash-b", yieldTo: {} }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RolloutHeldError);
    const seen = (first as RolloutHeldError).renewed;
    expect((first as RolloutHeldError).message).toContain(
      "another replica owns this rollout: dash-a",
    );
    expect(epoch()).toBe("1");
    // dash-a writes again (it renews): still refused, dash-a's writes land.
    await a.saveRollout(state("a", 1));
    await expect(b.loadRollout({ owner: "dash-b", yieldTo: { seen } })).rejects.toBeInstanceOf(
      RolloutHeldError,
    );
    await a.saveRollout(state("a", 2));
    expect(stored()).toEqual(state("a", 2));
    // dash-a stopped renewing since dash-b last looked: claimed.
    const renewed = fake.configMap(NS, HISTORY)?.metadata?.annotations?.[
      "ipmasq.dev/rollout-owner-renewed"
    ];
    expect(await b.loadRollout({ owner: "dash-b", yieldTo: { seen: renewed } })).toEqual(
      state("a", 2),
    );
    expect(epoch()).toBe("2");
    await expect(a.saveRollout(state("a", 3))).rejects.toBeInstanceOf(RolloutFencedError);
  });
});
