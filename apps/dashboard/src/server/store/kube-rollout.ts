// Kubernetes store: a staged rollout's state, persisted as key `rollout.json` of the history
// ConfigMap. Not on the ip-masq-agent ConfigMap itself: every write there is a new
// resourceVersion, which is what this store calls a revision (a rollout step would look like a
// config change), and that object is often owned by GitOps tools that would report or revert
// the extra data. The history ConfigMap is the dashboard's own, its RBAC already granted, and
// its writer keeps keys it does not own.
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { statusCode } from "../kube/client.js";
import { FIELD_MANAGER } from "./kube-revision.js";

/** The history ConfigMap key that holds the rollout state. */
export const ROLLOUT_KEY = "rollout.json";
const KEY = ROLLOUT_KEY;

export interface KubeRolloutOptions {
  core: CoreV1Api;
  namespace: string;
  /** The history ConfigMap's name. */
  name: string;
  /** May create the ConfigMap when missing. */
  create?: boolean;
}

async function read(o: KubeRolloutOptions): Promise<V1ConfigMap | undefined> {
  try {
    return await o.core.readNamespacedConfigMap({ namespace: o.namespace, name: o.name });
  } catch (e) {
    if (statusCode(e) === 404) return undefined;
    throw e;
  }
}

/** The persisted state (parsed JSON, checked by its reader), or null. */
export async function loadKubeRollout(o: KubeRolloutOptions): Promise<unknown | null> {
  const raw = (await read(o))?.data?.[KEY];
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    // Read, but not JSON (a hand edit): its reader finds no state in it, as in JSON of no state
    // (a read that failed is thrown: a replica taking the rollout over then reads it again).
    return { notJson: raw.slice(0, 64) };
  }
}

/** The key of a move (promote, retry, abort) asked on a replica that does not own the rollout. */
export const REQUEST_KEY = "rollout-request.json";

/** Writes (null: removes) the state; retried on conflicts with the history's own writes. */
export function saveKubeRollout(o: KubeRolloutOptions, state: unknown | null): Promise<void> {
  return saveKubeKey(o, KEY, state);
}

/** Writes a move request beside the state (the owner performs it once: staged-request.ts). */
export function saveKubeRequest(o: KubeRolloutOptions, request: unknown): Promise<void> {
  return saveKubeKey(o, REQUEST_KEY, request);
}

async function saveKubeKey(o: KubeRolloutOptions, key: string, state: unknown | null) {
  for (let attempt = 0; attempt < 8; attempt++) {
    const cm = await read(o);
    const data = { ...cm?.data };
    if (state === null) delete data[key];
    else data[key] = JSON.stringify(state);
    try {
      if (cm) {
        await o.core.replaceNamespacedConfigMap({
          namespace: o.namespace,
          name: o.name,
          body: { ...cm, data },
          fieldManager: FIELD_MANAGER,
        });
      } else if (state === null) return;
      else if (!o.create)
        throw new Error(`the history ConfigMap ${o.namespace}/${o.name} does not exist`);
      else
        await o.core.createNamespacedConfigMap({
          namespace: o.namespace,
          body: {
            metadata: {
              name: o.name,
              namespace: o.namespace,
              labels: { "app.kubernetes.io/managed-by": FIELD_MANAGER },
            },
            data,
          },
          fieldManager: FIELD_MANAGER,
        });
      return;
    } catch (e) {
      if (statusCode(e) !== 409) throw e;
    }
  }
  throw new Error("the history ConfigMap kept changing (8 conflicts)");
}
