// A follower reads the owner's rollout state through this watch. The owner's word that it began
// a revision carries the config's digest in rollout-extras.json (kept apart for the previous
// release); the watch handed on rollout.json alone, so a follower never saw it, and missed a
// change of it that left rollout.json's text as it was (the same number, another merge).
import type { V1ConfigMap } from "@kubernetes/client-node";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { EXTRAS_KEY, splitRollout } from "../fleet/staged-compat.js";
import type { KubeClients } from "../kube/client.js";
import { ROLLOUT_KEY } from "./kube-rollout.js";
import { KubeRolloutWatch } from "./kube-rollout-watch.js";

const NAME = "h";
const digest = (c: string) => c.repeat(64);

/** The history ConfigMap as the owner writes it, having begun revision 2 of config `c`. */
function history(c: string): V1ConfigMap {
  const { text, extras } = splitRollout({
    version: 2,
    begun: 2,
    begunConfig: digest(c),
    current: null,
    past: [],
  });
  return {
    metadata: { name: NAME, resourceVersion: c },
    data: { [ROLLOUT_KEY]: text!, [EXTRAS_KEY]: extras! },
  };
}

let watch: KubeRolloutWatch | undefined;
afterEach(async () => {
  await watch?.stop();
});

it("hands on the owner's begunConfig, and its change under the same rollout.json", async () => {
  let send: ((type: string, obj: never) => void) | undefined;
  const clients = {
    core: { listNamespacedConfigMap: async () => ({ items: [history("a")], metadata: {} }) },
    watch: {
      async watch(_p: string, _q: object, onEvent: (type: string, obj: never) => void) {
        send = onEvent;
        return new AbortController();
      },
    },
  } as unknown as KubeClients;
  const states: unknown[] = [];
  watch = new KubeRolloutWatch(
    { clients, namespace: "ns", name: NAME, log: pino({ level: "silent" }) },
    { state: (raw) => states.push(raw), request: () => {} },
  );
  await watch.start();
  await expect.poll(() => send).toBeDefined();
  send!("MODIFIED", history("b") as never);
  await expect.poll(() => states.length).toBe(2);
  expect(states.map((s) => (s as { begunConfig?: string }).begunConfig)).toEqual([
    digest("a"),
    digest("b"),
  ]);
});
