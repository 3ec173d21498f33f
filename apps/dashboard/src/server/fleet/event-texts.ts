// Texts every node of a push gets (issue 17: CPU per node): its status summary while applying,
// its timeline's status change and its apply's result. Built per node from template literals,
// each was a new string, flattened and hashed again by the timeline's shared-text lookup
// (event-log.ts) and garbage a moment later, three to four times per node and push; here the
// nodes in the same step of a push get one string, looked up by primitive keys.
import type { ApplyResult, ApplyTrigger, NodeStatus, UnheardHeal } from "@masq/shared";

/** Texts one memo keeps before it starts over: a fleet has a few at a time. */
const MAX_TEXTS = 1024;

/**
 * Values by key while kept, past MAX_TEXTS starting over. Looked up and built apart: a closure
 * passed per call would be an allocation per node, what this module saves.
 */
class Memo<K, V = string> {
  private readonly kept = new Map<K, V>();

  get(key: K): V | undefined {
    return this.kept.get(key);
  }

  set(key: K, v: V): V {
    if (this.kept.size >= MAX_TEXTS) this.kept.clear();
    this.kept.set(key, v);
    return v;
  }

  /** The memo kept under `key`, a new one if none. */
  inner<L, W>(this: Memo<K, Memo<L, W>>, key: K): Memo<L, W> {
    return this.get(key) ?? this.set(key, new Memo<L, W>());
  }
}

const applying = new Memo<number | null>();

/** A node's summary while its apply of `revision` is under way. */
export function applyingSummary(revision: number | null): string {
  return applying.get(revision) ?? applying.set(revision, `applying revision ${revision}`);
}

const changes = new Memo<NodeStatus | null, Memo<NodeStatus, Memo<string>>>();

/**
 * The timeline's entry for a status change: `from → to: why`. `from` null: the node's first
 * status (a node never seen before was not offline), `to (first report): why`.
 */
export function statusChangeText(from: NodeStatus | null, to: NodeStatus, why: string): string {
  const texts = changes.inner(from).inner(to);
  const text = from === null ? `${to} (first report): ${why}` : `${from} → ${to}: ${why}`;
  return texts.get(why) ?? texts.set(why, text);
}

/** The timeline's entry when a drifted node's differences change while it stays drifted. */
export function driftChangedText(summary: string): string {
  return `still drifted, what differs is now: ${summary}`;
}

/**
 * A drift the dashboard did not judge live, known because an apply of the revision the node ran
 * changed its rules back (fleet-state.ts healedDrift): the words after the node's name, for its
 * timeline and a staged rollout's pause. `atReconnect`: the apply of the revision sent as the
 * reporter reconnected (it said at hello it ran it); `what`: the differences its last read on
 * this connection showed, null when no read of the drifted rules was judged.
 */
export function driftHealedText(
  trigger: ApplyTrigger,
  revision: number,
  atReconnect: boolean,
  what: string | null,
): string {
  const how =
    atReconnect && trigger === "desired"
      ? `had drifted from revision ${revision} while the dashboard did not hear from it; re-applying revision ${revision} at reconnect changed them back`
      : `had drifted from revision ${revision} without the dashboard seeing it drifted; ${applyWhat(trigger, revision)} changed them back`;
  const known =
    what === null
      ? "what differed is not known (no read of the drifted rules reached the dashboard)"
      : `what differed: ${what}`;
  return `its rules ${how}; ${known}`;
}

/**
 * A re-apply at reconnect of a merged revision the node named at hello changed its rules, and
 * that number may be another replica's for another merge: which of the two is not known.
 */
export function driftOrOtherMergeText(revision: number): string {
  return `re-applying revision ${revision} at reconnect changed its rules: they had drifted while the dashboard did not hear from it, or the revision ${revision} its reporter named at hello was another replica's number for another merge (each replica numbers merged revisions); not counted as a drift`;
}

/**
 * A heal the reporter made while the dashboard did not hear from it (`unheard-heals`), for the
 * node's timeline and its Drifted Event. `dropped`: older heals its reporter did not keep (said
 * with the oldest kept); `othersNumber`: the revision may be another replica's number.
 */
export function unheardHealText(h: UnheardHeal, dropped: number, othersNumber: boolean): string {
  const from =
    h.revision === null
      ? "the config it ran, a mounted file with no revision,"
      : othersNumber
        ? `revision ${h.revision} (its reporter's number, which may be another replica's for another merge)`
        : `revision ${h.revision}`;
  const what = h.what === null ? "what differed was not read" : `what differed: ${h.what}`;
  const at = Number.isFinite(new Date(h.at).getTime()) ? new Date(h.at).toISOString() : `${h.at}`;
  const lost =
    dropped > 0
      ? `; and ${dropped} earlier ${dropped === 1 ? "one" : "ones"} not kept by the reporter`
      : "";
  return `while the dashboard did not hear from it, its rules drifted from ${from} (${what}) and the reporter changed them back at ${at} by the node's clock${lost}`;
}

/** Whole milliseconds past which an apply's text is built each time (not kept). */
const MAX_KEPT_MS = 2 ** 20;

const applied = new Memo<ApplyResult["trigger"], Memo<number | null, Memo<number>>>();

/** The timeline's entry for a successful apply, as `res` reports it. */
export function appliedText(res: ApplyResult): string {
  const ms = Math.round(res.durationMs);
  if (ms >= MAX_KEPT_MS) return buildApplied(res, ms);
  const texts = applied.inner(res.trigger).inner(res.revision);
  const key = ms * 2 + (res.changed ? 1 : 0);
  return texts.get(key) ?? texts.set(key, buildApplied(res, ms));
}

/**
 * What an apply was, for people (the timeline, Kubernetes Events): "desired apply of revision 7"
 * read as jargon; this says where it came from.
 */
export function applyWhat(trigger: ApplyTrigger, revision: number | null): string {
  const r = revision === null ? "" : ` of revision ${revision}`;
  switch (trigger) {
    case "desired":
      return `applying ${revision === null ? "the config" : `revision ${revision}`} sent by the dashboard`;
    case "resync":
      return `resync${r} asked in the dashboard`;
    case "periodic":
      return `periodic resync${r}`;
    case "startup":
      return `apply${r} at reporter start`;
    case "heal":
      return `heal of drift${revision === null ? "" : ` with revision ${revision}`}`;
    case "cli":
      return `apply${r} from the ipmasq command line`;
  }
}

function buildApplied(res: ApplyResult, ms: number): string {
  const what = applyWhat(res.trigger, res.revision);
  const how = res.changed ? "changed the rules" : "found the rules already right";
  return `${what} ${how} (${ms} ms)`;
}
