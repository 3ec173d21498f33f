// Kubernetes store: a staged rollout's state, persisted as key `rollout.json` of the history
// ConfigMap. Not on the ip-masq-agent ConfigMap itself: every write there is a new
// resourceVersion, which is what this store calls a revision (a rollout step would look like a
// config change), and that object is often owned by GitOps tools that would report or revert
// the extra data. The history ConfigMap is the dashboard's own, its RBAC already granted, and
// its writer keeps keys it does not own.
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { pendingMessage, pendingRequest } from "../fleet/staged-request.js";
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
  return (await readKubeRollout(o)).state;
}

/** The persisted state and its text as stored (null: none), for a write conditional on it. */
export async function readKubeRollout(
  o: KubeRolloutOptions,
): Promise<{ state: unknown | null; text: string | null }> {
  const raw = (await read(o))?.data?.[KEY];
  if (raw === undefined) return { state: null, text: null };
  try {
    return { state: JSON.parse(raw) as unknown, text: raw };
  } catch {
    // Read, but not JSON (a hand edit): its reader finds no state in it, as in JSON of no state
    // (a read that failed is thrown: a replica taking the rollout over then reads it again).
    return { state: { notJson: raw.slice(0, 64) }, text: raw };
  }
}

/**
 * A state write refused because the stored state is not the one this replica last read or
 * wrote: another replica (a new owner of the singleton Lease) wrote since, and this one's
 * state, however it was queued, must not overwrite it. The writer reads the state again.
 */
export class RolloutFencedError extends Error {
  readonly fenced = true;
  constructor() {
    super(
      "the rollout state was written by another replica since this one last read or wrote it (a new owner): not overwritten",
    );
  }
}

/** The key of a move (promote, retry, abort) asked on a replica that does not own the rollout. */
export const REQUEST_KEY = "rollout-request.json";

/**
 * Writes (null: removes) the state; retried on conflicts with the history's own writes. With
 * `expected` (the text this replica last read or wrote; null: none stored), only over that
 * text: the replace carries the resourceVersion of the read that found it, so a write by
 * another replica in between is a 409, read again and refused (RolloutFencedError). Resolves
 * to the text written (null: removed).
 */
export async function saveKubeRollout(
  o: KubeRolloutOptions,
  state: unknown | null,
  expected?: string | null,
): Promise<string | null> {
  const text = state === null ? null : JSON.stringify(state);
  const check =
    expected === undefined
      ? undefined
      : (cm: V1ConfigMap | undefined) => {
          if ((cm?.data?.[KEY] ?? null) !== expected) throw new RolloutFencedError();
        };
  await saveKubeKey(o, KEY, state, check);
  return text;
}

/**
 * Writes a move request beside the state (the owner performs it once: staged-request.ts), only
 * while no other request waits for the owner: the replace carries the resourceVersion of the
 * read that found none, so of two asked at once the later is refused (MovePendingError).
 */
export function saveKubeRequest(
  o: KubeRolloutOptions,
  request: unknown,
  now: () => number = Date.now,
): Promise<void> {
  return saveKubeKey(o, REQUEST_KEY, request, (cm) => {
    const p = pendingRequest(parsed(cm?.data?.[REQUEST_KEY]), parsed(cm?.data?.[KEY]), now());
    if (p) throw new MovePendingError(pendingMessage(p));
  });
}

/** A move asked while another waits for the owner (the asker is told so: 409). */
export class MovePendingError extends Error {
  readonly pending = true;
}

function parsed(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function saveKubeKey(
  o: KubeRolloutOptions,
  key: string,
  state: unknown | null,
  check?: (cm: V1ConfigMap | undefined) => void,
) {
  for (let attempt = 0; attempt < 8; attempt++) {
    const cm = await read(o);
    check?.(cm);
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
