// Kubernetes store: a staged rollout's state, persisted as key `rollout.json` of the history
// ConfigMap. Not on the ip-masq-agent ConfigMap itself: every write there is a new
// resourceVersion, which is what this store calls a revision (a rollout step would look like a
// config change), and that object is often owned by GitOps tools that would report or revert
// the extra data. The history ConfigMap is the dashboard's own, its RBAC already granted, and
// its writer keeps keys it does not own.
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { EXTRAS_KEY, joinRollout, splitRollout } from "../fleet/staged-compat.js";
import {
  pendingMessage,
  pendingRequest,
  SeenRequests,
  unperformedOf,
} from "../fleet/staged-request.js";
import { statusCode } from "../kube/client.js";
import { FIELD_MANAGER } from "./kube-revision.js";

/** The history ConfigMap key that holds the rollout state. */
export const ROLLOUT_KEY = "rollout.json";
/**
 * The owner epoch, on the history ConfigMap: one more at each takeover of the rollout (its
 * fence: claimKubeRollout), and the replica that claimed it last (for people reading it).
 */
export const EPOCH_ANNOTATION = "ipmasq.dev/rollout-owner-epoch";
export const OWNER_ANNOTATION = "ipmasq.dev/rollout-owner";
/**
 * When the owner last claimed or wrote the rollout (its clock, for people); a replica holding
 * no Lease tells by its change, not its value, whether the owner still renews it.
 */
export const RENEWED_ANNOTATION = "ipmasq.dev/rollout-owner-renewed";
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

/**
 * The persisted state and its text as stored (null: none), for a write conditional on it; the
 * fields kept apart for the previous release (EXTRAS_KEY) put back when they belong to that text
 * (staged-compat.ts; `dropped`: why not).
 */
export async function readKubeRollout(
  o: KubeRolloutOptions,
): Promise<{ state: unknown | null; text: string | null; dropped?: string }> {
  const data = (await read(o))?.data;
  const raw = data?.[KEY];
  if (raw === undefined) return { state: null, text: null };
  try {
    return { ...joinRollout(JSON.parse(raw) as unknown, raw, data?.[EXTRAS_KEY]), text: raw };
  } catch {
    // Read, but not JSON (a hand edit): its reader finds no state in it, as in JSON of no state
    // (a read that failed is thrown: a replica taking the rollout over then reads it again).
    return { state: { notJson: raw.slice(0, 64) }, text: raw };
  }
}

/**
 * A state write refused because another replica claimed the rollout since this one did (a new
 * owner of the singleton Lease), or the stored state is not the one this replica last read or
 * wrote: this one's state, however it was queued, must not overwrite it. The writer reads the
 * state again (claiming it anew only while it still holds the singleton Lease).
 */
export class RolloutFencedError extends Error {
  readonly fenced = true;
  /** `owner`: the replica that claimed the rollout last, as the ConfigMap names it. */
  constructor(readonly owner?: string) {
    super(
      owner
        ? `another replica owns this rollout: ${owner} (it claimed the rollout since this replica did)`
        : "the rollout state was claimed or written by another replica since this one last read or wrote it (a new owner): not overwritten",
    );
  }
}

/**
 * A claim refused to a replica that holds no singleton Lease: another replica recorded itself as
 * the rollout's owner and renewed that since this one last looked (`renewed`: its mark now).
 * Two dashboards acting as owner (leader election off) took the rollout from each other at
 * every write before.
 */
export class RolloutHeldError extends RolloutFencedError {
  readonly held = true;
  constructor(
    readonly holder: string,
    readonly renewed: string,
  ) {
    super(holder);
  }
}

/** The key of a move (promote, retry, abort) asked on a replica that does not own the rollout. */
export const REQUEST_KEY = "rollout-request.json";

/**
 * Writes (null: removes) the state; retried on conflicts with the history's own writes. With
 * `claim` (this owner's: claimKubeRollout), only while the ConfigMap carries that epoch and
 * owner (the owner too: an epoch annotation removed by hand counts from 0 again, and an
 * earlier owner's epoch would come round):
 * once another replica has claimed the rollout, this one's writes never land, even one whose
 * text is byte for byte what the new owner wrote (a fence on the text alone let it land). With
 * `expected` (the text this replica last read or wrote; null: none stored), only over that
 * text (a hand edit is read before it is written over). Either check is made on a fresh read
 * whose resourceVersion the replace carries, so a write by another replica in between is a
 * 409, read again and refused (RolloutFencedError). Resolves to the text written (null: removed).
 */
export async function saveKubeRollout(
  o: KubeRolloutOptions,
  state: unknown | null,
  expected?: string | null,
  claim?: OwnerClaim,
): Promise<string | null> {
  const { text, extras } = splitRollout(state);
  await updateHistory(o, (cm) => {
    fence(cm, expected, claim);
    // rollout.json and the fields kept apart for the previous release, in one replace.
    const data = { ...cm?.data };
    for (const [key, value] of [
      [KEY, text],
      [EXTRAS_KEY, extras],
    ] as const)
      if (value === null) delete data[key];
      else data[key] = value;
    if (!cm && text === null) return null;
    if (!cm && !o.create)
      throw new Error(`the history ConfigMap ${o.namespace}/${o.name} does not exist`);
    const renewed: Record<string, string> = claim
      ? { [RENEWED_ANNOTATION]: new Date().toISOString() }
      : {};
    return { data, annotations: { ...cm?.metadata?.annotations, ...renewed } };
  });
  return text;
}

/** Refuses (RolloutFencedError) unless `cm` carries `claim` and holds `expected` (if given). */
function fence(cm: V1ConfigMap | undefined, expected?: string | null, claim?: OwnerClaim): void {
  if (claim !== undefined && !claimed(cm, claim))
    throw new RolloutFencedError(cm?.metadata?.annotations?.[OWNER_ANNOTATION]);
  if (expected !== undefined && (cm?.data?.[KEY] ?? null) !== expected)
    throw new RolloutFencedError();
}

/**
 * Would a write of the state land now (saveKubeRollout's checks on a fresh read)? A move checks
 * before it changes anything, so one refused changes nothing (RolloutFencedError: who owns it).
 */
export async function checkKubeRollout(
  o: KubeRolloutOptions,
  expected?: string | null,
  claim?: OwnerClaim,
): Promise<void> {
  fence(await read(o), expected, claim);
}

/**
 * The owner epoch on the history ConfigMap (EPOCH_ANNOTATION): how many times an owner took the
 * rollout over. 0 when absent or not a count (a hand edit): the next claim makes it 1.
 */
export function epochOf(cm: V1ConfigMap | undefined): number {
  const raw = cm?.metadata?.annotations?.[EPOCH_ANNOTATION];
  const n = raw !== undefined && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : 0;
  return Number.isSafeInteger(n) ? n : 0;
}

/** An owner's claim of the rollout: the epoch it took and its name, as the ConfigMap says them. */
export interface OwnerClaim {
  epoch: number;
  owner: string;
}

/** Does the history ConfigMap carry `claim` (its epoch and owner)? */
function claimed(cm: V1ConfigMap | undefined, claim: OwnerClaim): boolean {
  const owner = cm?.metadata?.annotations?.[OWNER_ANNOTATION];
  return epochOf(cm) === claim.epoch && owner === claim.owner;
}

/**
 * A replica taking the rollout over (the singleton Lease won, or an owner starting) claims it
 * before reading it: the epoch goes one up in a replace conditional on the read's
 * resourceVersion (retried on conflicts with the history's own writes), so from then on every
 * write of an earlier owner, queued or on the wire, is refused (saveKubeRollout), whatever text
 * it carries. Resolves to this owner's claim; undefined when there is no history ConfigMap and
 * this replica may not create it (nothing can be written then either).
 */
export async function claimKubeRollout(
  o: KubeRolloutOptions,
  owner: string,
  yieldTo?: { seen?: string },
): Promise<OwnerClaim | undefined> {
  let claim: OwnerClaim | undefined;
  await updateHistory(o, (cm) => {
    if (!cm && !o.create) return null;
    if (yieldTo) refuseHeld(cm, owner.slice(0, 253), yieldTo.seen);
    claim = { epoch: epochOf(cm) + 1, owner: owner.slice(0, 253) };
    const annotations = {
      ...cm?.metadata?.annotations,
      [EPOCH_ANNOTATION]: String(claim.epoch),
      [OWNER_ANNOTATION]: claim.owner,
      [RENEWED_ANNOTATION]: new Date().toISOString(),
    };
    return { data: cm?.data, annotations };
  });
  return claim;
}

/**
 * `yieldTo` (a replica holding no Lease): refused while another replica is recorded as owner
 * and renewed it since `seen` (its mark at this replica's last look; none: not looked yet).
 */
function refuseHeld(cm: V1ConfigMap | undefined, owner: string, seen: string | undefined): void {
  const holder = cm?.metadata?.annotations?.[OWNER_ANNOTATION];
  const renewed = cm?.metadata?.annotations?.[RENEWED_ANNOTATION];
  if (holder && holder !== owner && renewed !== undefined && renewed !== seen)
    throw new RolloutHeldError(holder, renewed);
}

/**
 * Writes a move request beside the state (the owner performs it once: staged-request.ts), only
 * while no other request waits for the owner: the replace carries the resourceVersion of the
 * read that found none, so of two asked at once the later is refused (MovePendingError).
 */
export function saveKubeRequest(
  o: KubeRolloutOptions,
  request: object,
  seen: SeenRequests = new SeenRequests(),
): Promise<void> {
  return updateHistory(o, (cm) => {
    const old = parsed(cm?.data?.[REQUEST_KEY]);
    const state = parsed(cm?.data?.[KEY]);
    const p = pendingRequest(old, state, seen);
    if (p) throw new MovePendingError(pendingMessage(p));
    if (!cm && !o.create)
      throw new Error(`the history ConfigMap ${o.namespace}/${o.name} does not exist`);
    // One written over unperformed (no owner for a while) is named, for the owner to record.
    const replaces = unperformedOf(old, state);
    const data = {
      ...cm?.data,
      [REQUEST_KEY]: JSON.stringify({ ...request, ...(replaces ? { replaces } : {}) }),
    };
    return { data, annotations: cm?.metadata?.annotations };
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

/**
 * Read-modify-write of the history ConfigMap: `change` gives its new data and annotations (null:
 * nothing to write; it may throw to refuse), written by a replace carrying the read's
 * resourceVersion (or a create when it is missing), read and changed again on a conflict.
 */
export async function updateHistory(
  o: KubeRolloutOptions,
  change: (
    cm: V1ConfigMap | undefined,
  ) => { data?: Record<string, string>; annotations?: Record<string, string> } | null,
  attempts = 8,
): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const cm = await read(o);
    const next = change(cm);
    if (!next) return;
    const { data, annotations } = next;
    try {
      if (cm)
        await o.core.replaceNamespacedConfigMap({
          namespace: o.namespace,
          name: o.name,
          body: { ...cm, metadata: { ...cm.metadata, annotations }, data },
          fieldManager: FIELD_MANAGER,
        });
      else
        await o.core.createNamespacedConfigMap({
          namespace: o.namespace,
          body: {
            metadata: {
              name: o.name,
              namespace: o.namespace,
              labels: { "app.kubernetes.io/managed-by": FIELD_MANAGER },
              ...(annotations ? { annotations } : {}),
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
  throw new HistoryKeptChanging(`the history ConfigMap kept changing (${attempts} conflicts)`);
}

/** updateHistory met a conflict at every attempt (another writer each time). */
export class HistoryKeptChanging extends Error {}
