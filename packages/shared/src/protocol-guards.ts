// Hand-written checks of the reporter frames a push brings by the thousand (issue 17): an
// apply-result (with its post-apply snapshot naming its rules by digest), a snapshot whose
// rules go by digest or are already validated (validated-rules.ts), a snapshot whole with its
// digests beside (every node's at once when a kube-proxy or CNI upgrade rewrites a shared
// chain; guardLinux checks its rules), a heartbeat. Each guard
// accepts only what the frame's zod schema (protocol.ts) certainly accepts, and builds the
// same message zod would (fresh objects, the schema's key order); anything else — a rule
// list, a Windows or nftables read, an unknown key, a value out of range — gives undefined,
// and the caller lets zod decide, so every refusal and its reason stay zod's.
import { familySchema } from "./cidr.js";
import {
  MAX_APPLY_DURATION_MS,
  MAX_APPLY_ERROR_CHARS,
  MAX_CHAIN_LINES,
  MAX_CHAIN_NAME_LENGTH,
  MAX_FAMILY_SNAPSHOTS,
  MAX_READ_ERROR_CHARS,
  MAX_RULE_LINE_CHARS,
  MAX_SNAPSHOT_CHAINS,
  MAX_SNAPSHOT_LINES,
  MAX_UNREAD_NOTE_LENGTH,
} from "./limits.js";
import {
  type ApplyResult,
  applyTriggerSchema,
  type FamilyChainDigests,
  type FamilySnapshot,
  familiesUnique,
  healPolicySchema,
  iptablesBackendSchema,
  linesBelongTo,
  PROTOCOL_VERSION,
  type ReporterMessage,
  type ResyncSchedule,
  type Snapshot,
} from "./protocol.js";

type Obj = Record<string, unknown>;

/** The keys each schema allows (a test holds them equal to the schemas' shapes). */
export const GUARDED_KEYS = {
  snapshot: new Set([
    "type",
    "v",
    "seq",
    "takenAt",
    "linux",
    "linuxDigest",
    "linuxChains",
    "windows",
    "nftables",
    "appliedRevision",
    "schedule",
  ]),
  applyResult: new Set([
    "type",
    "v",
    "revision",
    "ok",
    "error",
    "durationMs",
    "trigger",
    "changed",
    "snapshot",
  ]),
  familyChains: new Set(["family", "backend", "chains", "unread", "unreadNote", "readError"]),
  chainRef: new Set(["name", "digest"]),
  family: new Set(["family", "backend", "chains", "unread", "unreadNote", "readError"]),
  chain: new Set(["name", "lines"]),
  heartbeat: new Set(["type", "v", "ts"]),
  schedule: new Set(["heal", "resyncMs", "nextResyncAt"]),
} as const;

/** The enums' values, from their schemas (membership is all they check). */
const TRIGGERS: ReadonlySet<unknown> = new Set(applyTriggerSchema.options);
const HEALS: ReadonlySet<unknown> = new Set(healPolicySchema.options);
const FAMILIES: ReadonlySet<unknown> = new Set(familySchema.options);
const BACKENDS: ReadonlySet<unknown> = new Set(iptablesBackendSchema.options);

/** chainNameSchema's pattern (its length is checked apart). */
const CHAIN_NAME = /^[^\s!-]\S*$/;

/** rulesDigestSchema's pattern. */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The message `value` (a parsed current-version frame in current names) certainly is, or
 * undefined when zod must decide. Hello frames always go to zod (one per connection).
 */
export function guardReporterMessage(value: unknown): ReporterMessage | undefined {
  if (!isObj(value) || value.v !== PROTOCOL_VERSION) return undefined;
  if (value.type === "apply-result") return guardApplyResult(value);
  if (value.type === "snapshot") return guardWholeSnapshot(value);
  if (value.type === "heartbeat") return guardHeartbeat(value);
  return undefined;
}

/**
 * A snapshot without Windows or nftables parts; `linux`: its rules, already validated (the
 * frame's own `linux` is then not looked at), else the frame must have none.
 */
export function guardSnapshot(
  value: unknown,
  linux: FamilySnapshot[] | undefined,
): Snapshot | undefined {
  if (!isObj(value) || value.type !== "snapshot" || value.v !== PROTOCOL_VERSION) return undefined;
  if (!onlyKeys(value, GUARDED_KEYS.snapshot) || !snapshotParts(value, linux)) return undefined;
  const { seq, takenAt, linuxDigest, linuxChains, appliedRevision, schedule } = value;
  if (!isIndex(seq) || !isIndex(takenAt) || !isRevision(appliedRevision)) return undefined;
  const chains = optional(linuxChains, guardLinuxChains);
  const s = optional(schedule, guardSchedule);
  if (chains === null || s === null) return undefined;
  // Built in the schema's key order, as zod builds it.
  const msg = { type: "snapshot", v: PROTOCOL_VERSION, seq, takenAt } as Snapshot;
  if (linux !== undefined) msg.linux = linux;
  if (linuxDigest !== undefined) msg.linuxDigest = linuxDigest as string;
  if (chains !== undefined) msg.linuxChains = chains;
  msg.appliedRevision = appliedRevision;
  if (s !== undefined) msg.schedule = s;
  return msg;
}

/**
 * A snapshot by digest, or whole with its digests beside (its rules checked here); a whole
 * one without digests (the previous release's, or the first on a connection) goes to zod.
 */
function guardWholeSnapshot(o: Obj): Snapshot | undefined {
  if (o.linux === undefined) return guardSnapshot(o, undefined);
  if (o.linuxChains === undefined && o.linuxDigest === undefined) return undefined;
  const linux = guardLinux(o.linux);
  return linux && guardSnapshot(o, linux);
}

/** Rules as the caller says (validated, or none), a well-formed digest, no Windows or nft part. */
function snapshotParts(o: Obj, linux: FamilySnapshot[] | undefined): boolean {
  if ((o.linux !== undefined) !== (linux !== undefined)) return false;
  if (o.windows !== undefined || o.nftables !== undefined) return false;
  const d = o.linuxDigest;
  return d === undefined || (typeof d === "string" && DIGEST.test(d));
}

/**
 * A list of at most MAX_FAMILY_SNAPSHOTS families, each read by `guard` (fresh objects), no
 * family and backend twice (zod: familiesUnique), or undefined.
 */
function guardFamilies<T extends { family: string; backend: string }>(
  value: unknown,
  guard: (f: unknown) => T | undefined,
): T[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_FAMILY_SNAPSHOTS) return undefined;
  const out: T[] = [];
  for (const f of value) {
    const g = guard(f);
    if (g === undefined) return undefined;
    out.push(g);
  }
  return familiesUnique(out) ? out : undefined;
}

/** `linuxChains` as familyChainDigestsSchema reads each family (fresh objects), or undefined. */
function guardLinuxChains(value: unknown): FamilyChainDigests[] | undefined {
  return guardFamilies(value, guardFamilyChains);
}

/** A `linux` part as z.array(familySnapshotSchema) reads it (fresh objects), or undefined. */
export function guardLinux(value: unknown): FamilySnapshot[] | undefined {
  return guardFamilies(value, guardFamily);
}

function guardFamily(f: unknown): FamilySnapshot | undefined {
  return guardFamilyOf(f, guardChains);
}

/** A family's chains: no name twice, at most MAX_SNAPSHOT_LINES lines in all. */
function guardChains(chains: unknown): FamilySnapshot["chains"] | undefined {
  if (!Array.isArray(chains) || chains.length > MAX_SNAPSHOT_CHAINS) return undefined;
  const out: FamilySnapshot["chains"] = [];
  const names = new Set<string>();
  let total = 0;
  for (const c of chains) {
    if (!isObj(c) || !onlyKeys(c, GUARDED_KEYS.chain) || !isChainName(c.name)) return undefined;
    const lines = c.lines === null ? null : guardLines(c.name, c.lines);
    if (lines === undefined) return undefined;
    total += lines?.length ?? 0;
    names.add(c.name);
    out.push({ name: c.name, lines });
  }
  return names.size === out.length && total <= MAX_SNAPSHOT_LINES ? out : undefined;
}

/** chainSnapshotSchema's lines: bounded, no newline, each `-N`/`-P`/`-A` of chain `name`. */
function guardLines(name: string, lines: unknown): string[] | undefined {
  if (!Array.isArray(lines) || lines.length > MAX_CHAIN_LINES) return undefined;
  const out: string[] = [];
  for (const l of lines) {
    if (typeof l !== "string" || l.length > MAX_RULE_LINE_CHARS || l.includes("\n"))
      return undefined;
    out.push(l);
  }
  return linesBelongTo(name, out) ? out : undefined;
}

/** Absent stays absent (undefined); else what `guard` makes of it, or null when it refuses. */
function optional<T>(x: unknown, guard: (x: unknown) => T | undefined): T | undefined | null {
  return x === undefined ? undefined : (guard(x) ?? null);
}

function guardFamilyChains(f: unknown): FamilyChainDigests | undefined {
  return guardFamilyOf(f, guardChainRefs);
}

/** A family's fields as both family schemas read them, its chains as `guardChains` does. */
function guardFamilyOf<C, F extends { chains: C[] }>(
  f: unknown,
  guardChains: (chains: unknown) => C[] | undefined,
): F | undefined {
  if (!isObj(f) || !onlyKeys(f, GUARDED_KEYS.family)) return undefined;
  const { family, backend, chains, unread, unreadNote, readError } = f;
  if (!FAMILIES.has(family) || !BACKENDS.has(backend)) return undefined;
  const cs = guardChains(chains);
  if (cs === undefined || (unread !== undefined && !isChainNames(unread))) return undefined;
  if (!isTextUpTo(unreadNote, MAX_UNREAD_NOTE_LENGTH)) return undefined;
  if (!isTextUpTo(readError, MAX_READ_ERROR_CHARS)) return undefined;
  const out = { family, backend, chains: cs } as Record<string, unknown>;
  if (unread !== undefined) out.unread = [...(unread as string[])];
  if (unreadNote !== undefined) out.unreadNote = unreadNote;
  if (readError !== undefined) out.readError = readError;
  return out as F;
}

/** A family's chains, each `{name, digest}`, no name twice (zod: "duplicate chain"). */
function guardChainRefs(chains: unknown): FamilyChainDigests["chains"] | undefined {
  if (!Array.isArray(chains) || chains.length > MAX_SNAPSHOT_CHAINS) return undefined;
  const refs: FamilyChainDigests["chains"] = [];
  const names = new Set<string>();
  for (const c of chains) {
    if (!isObj(c) || !onlyKeys(c, GUARDED_KEYS.chainRef) || !isChainName(c.name)) return undefined;
    if (typeof c.digest !== "string" || !DIGEST.test(c.digest)) return undefined;
    names.add(c.name);
    refs.push({ name: c.name, digest: c.digest });
  }
  return names.size === refs.length ? refs : undefined;
}

function isChainName(x: unknown): x is string {
  return (
    typeof x === "string" &&
    x.length >= 1 &&
    x.length <= MAX_CHAIN_NAME_LENGTH &&
    CHAIN_NAME.test(x)
  );
}

/** A list of chain names (for-of: a hole is undefined here as in zod, where every() skips it). */
function isChainNames(x: unknown): boolean {
  if (!Array.isArray(x) || x.length > MAX_SNAPSHOT_CHAINS) return false;
  for (const n of x) if (!isChainName(n)) return false;
  return true;
}

/** Absent, or text of at most `max` UTF-16 units (zod's string max). */
function isTextUpTo(x: unknown, max: number): boolean {
  return x === undefined || (typeof x === "string" && x.length <= max);
}

function guardApplyResult(o: Obj): ApplyResult | undefined {
  if (!onlyKeys(o, GUARDED_KEYS.applyResult)) return undefined;
  const { revision, ok, error, durationMs, trigger, changed, snapshot } = o;
  if (!isRevision(revision) || typeof ok !== "boolean" || typeof changed !== "boolean")
    return undefined;
  if (error !== undefined && !(typeof error === "string" && error.length <= MAX_APPLY_ERROR_CHARS))
    return undefined;
  if (!(typeof durationMs === "number" && durationMs >= 0 && durationMs <= MAX_APPLY_DURATION_MS))
    return undefined;
  if (!TRIGGERS.has(trigger)) return undefined;
  const after = snapshot === undefined ? undefined : guardSnapshot(snapshot, undefined);
  if (snapshot !== undefined && after === undefined) return undefined;
  const msg = { type: "apply-result", v: PROTOCOL_VERSION, revision, ok } as ApplyResult;
  if (error !== undefined) msg.error = error;
  msg.durationMs = durationMs;
  msg.trigger = trigger as ApplyResult["trigger"];
  msg.changed = changed;
  if (after !== undefined) msg.snapshot = after;
  return msg;
}

function guardHeartbeat(o: Obj): ReporterMessage | undefined {
  if (!onlyKeys(o, GUARDED_KEYS.heartbeat) || !isIndex(o.ts)) return undefined;
  return { type: "heartbeat", v: PROTOCOL_VERSION, ts: o.ts };
}

function guardSchedule(value: unknown): ResyncSchedule | undefined {
  if (!isObj(value) || !onlyKeys(value, GUARDED_KEYS.schedule)) return undefined;
  const { heal, resyncMs, nextResyncAt } = value;
  if (!HEALS.has(heal)) return undefined;
  if (resyncMs !== null && !(isIndex(resyncMs) && resyncMs > 0)) return undefined;
  if (nextResyncAt !== null && !isIndex(nextResyncAt)) return undefined;
  return { heal: heal as ResyncSchedule["heal"], resyncMs, nextResyncAt };
}

function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every own key is one the schema knows, and none holds undefined (zod would keep it). */
function onlyKeys(o: Obj, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k) || o[k] === undefined) return false;
  return true;
}

/** z.number().int().nonnegative(): a safe integer ≥ 0. */
function isIndex(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function isRevision(x: unknown): x is number | null {
  return x === null || isIndex(x);
}
