// Protocol version 1, kept so a dashboard serves reporters of the previous release during a
// rolling upgrade: their frames are checked against the v1 schemas and upgraded to the current
// shapes (a v1 snapshot held only POSTROUTING and the agent chain, read from one backend), and
// the dashboard's frames are re-labelled for them (every dashboard message is the same in v1).

import { z } from "zod";
import { familySchema } from "./cidr.js";
import { fromLegacyRevisionNames, toLegacyRevisionNames } from "./legacy-revision-names.js";
import { MAX_READ_ERROR_CHARS, MAX_RULE_LINE_CHARS, MAX_SNAPSHOT_CHAINS } from "./limits.js";
import {
  applyResultSchema,
  chainNameSchema,
  type DashboardMessage,
  type Decoded,
  dashboardMessageSchema,
  type FamilySnapshot,
  heartbeatSchema,
  helloSchema,
  type IptablesBackend,
  PROTOCOL_VERSION,
  type ProtocolVersion,
  parseFrame,
  type ReporterMessage,
  reporterMessageSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  snapshotSchema,
  validateMessage,
} from "./protocol.js";
import { guardReporterMessage, guardSnapshot } from "./protocol-guards.js";
import { POSTROUTING } from "./rules.js";
import { snapshotOf } from "./snapshot.js";
import { chainTargets } from "./targets.js";
import type { ValidatedRules } from "./validated-rules.js";

const v1 = z.literal(1);
/** Lines of one chain in a v1 snapshot (v1 had no other bound on a snapshot's size). */
const V1_MAX_LINES = 20_000;
const v1Lines = z.array(z.string().max(MAX_RULE_LINE_CHARS)).max(V1_MAX_LINES);

export const familySnapshotV1Schema = z.strictObject({
  family: familySchema,
  /** `iptables -S CHAIN` lines, or null when the chain does not exist. */
  chain: v1Lines.nullable(),
  /** `iptables -S POSTROUTING` lines. */
  postrouting: v1Lines,
  readError: z.string().max(MAX_READ_ERROR_CHARS).optional(),
});
export type FamilySnapshotV1 = z.infer<typeof familySnapshotV1Schema>;

/** v1 reporters knew no native nftables backend: their messages stay as they were. */
export const helloV1Schema = helloSchema
  .omit({ ruleBackends: true })
  .extend({ v: v1, backend: z.enum(["nf_tables", "legacy", "cni", "memory"]) });
export const snapshotV1Schema = snapshotSchema
  .omit({ nftables: true, linuxDigest: true, linuxChains: true })
  .extend({
    v: v1,
    linux: z.array(familySnapshotV1Schema).max(2).optional(),
  });

export const reporterMessageV1Schema = z.discriminatedUnion("type", [
  helloV1Schema,
  snapshotV1Schema,
  applyResultSchema.omit({ snapshot: true }).extend({ v: v1 }),
  heartbeatSchema.extend({ v: v1 }),
]);
export type ReporterMessageV1 = z.infer<typeof reporterMessageV1Schema>;
export type HelloV1 = z.infer<typeof helloV1Schema>;

/** Says why a v1 snapshot holds only two chains. */
export const V1_UNREAD_NOTE =
  "this reporter speaks protocol v1 (an older release): it reads only POSTROUTING and the agent chain, of one iptables backend; upgrade it to see every chain on the path";

interface V1Context {
  backend: IptablesBackend;
  masqChain: string;
}

/**
 * A v1 family snapshot as v2: its two chains, and as `unread` the chains they jump to, which a
 * v1 reporter never read.
 */
export function upgradeFamilySnapshot(f: FamilySnapshotV1, ctx: V1Context): FamilySnapshot {
  const base = snapshotOf({ ...f, masqChain: ctx.masqChain, backend: ctx.backend });
  // A failed v1 read sent empty POSTROUTING lines and a null chain: neither was read.
  const chains = f.readError
    ? base.chains.filter((c) =>
        c.name === POSTROUTING ? f.postrouting.length > 0 : c.lines !== null,
      )
    : base.chains;
  const read = new Set(chains.map((c) => c.name));
  const unread = chainTargets([...f.postrouting, ...(f.chain ?? [])])
    .filter((name) => !read.has(name) && chainNameSchema.safeParse(name).success)
    .slice(0, MAX_SNAPSHOT_CHAINS);
  return {
    ...base,
    chains,
    ...(unread.length > 0 ? { unread } : {}),
    unreadNote: V1_UNREAD_NOTE,
  };
}

function upgrade(msg: ReporterMessageV1, hello: HelloV1 | undefined): ReporterMessage | string {
  if (msg.type === "hello") return { ...msg, v: PROTOCOL_VERSION };
  if (msg.type !== "snapshot") return { ...msg, v: PROTOCOL_VERSION };
  if (!hello) return "a protocol v1 snapshot before the hello";
  const ctx: V1Context = {
    backend: hello.backend === "legacy" ? "legacy" : "nf_tables",
    masqChain: hello.flags.masqChain,
  };
  const { linux, ...rest } = msg;
  return {
    ...rest,
    v: PROTOCOL_VERSION,
    ...(linux ? { linux: linux.map((f) => upgradeFamilySnapshot(f, ctx)) } : {}),
  };
}

/**
 * How one reporter speaks: its protocol version, and whether it uses the previous release's
 * field names (`appliedGeneration`, legacy-revision-names.ts; every v1 reporter does).
 */
export interface ReporterDialect {
  version: ProtocolVersion;
  legacyNames: boolean;
}

export interface ReporterDecoder {
  /** The version the reporter's hello spoke; undefined before it. */
  readonly version: ProtocolVersion | undefined;
  /** The dialect of the reporter's hello; undefined before it. */
  readonly dialect: ReporterDialect | undefined;
  /** One frame as a current message (v1 frames upgraded); the reason names the first problem. */
  decode(raw: string | Uint8Array): Decoded<ReporterMessage>;
}

/** A snapshot without its `linux` part, checked when that part is known (ValidatedRules). */
const snapshotEnvelopeSchema = snapshotSchema.omit({ linux: true });

function snapshotRules(value: unknown): unknown[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const o = value as { type?: unknown; linux?: unknown };
  return o.type === "snapshot" && Array.isArray(o.linux) ? o.linux : undefined;
}

/**
 * A current-version frame's message; a snapshot whose `linux` part is in `rules` (equal to
 * one already validated) has only the rest checked and gets the validated part.
 */
function decodeCurrent(
  value: unknown,
  frameBytes: number,
  rules: ValidatedRules<FamilySnapshot[]> | undefined,
): Decoded<ReporterMessage> {
  const linux = rules && snapshotRules(value);
  if (!rules || !linux) {
    const msg = guardReporterMessage(value);
    return msg ? { ok: true, msg } : validateMessage(reporterMessageSchema, value);
  }
  const known = rules.find(linux);
  if (known === undefined) {
    // Whole with its digests beside: the guard checks the rules (else zod decides).
    const g = guardReporterMessage(value);
    const d = g ? ({ ok: true, msg: g } as const) : validateMessage(reporterMessageSchema, value);
    if (d.ok && d.msg.type === "snapshot" && d.msg.linux)
      rules.remember(linux, d.msg.linux, frameBytes);
    return d;
  }
  const msg = guardSnapshot(value, known);
  if (msg) return { ok: true, msg };
  const { linux: _, ...rest } = value as Record<string, unknown>;
  const d = validateMessage(snapshotEnvelopeSchema, rest);
  return d.ok ? { ok: true, msg: { ...d.msg, linux: known } } : d;
}

/**
 * A frame in the previous release's names read in this release's: the message, and the
 * snapshot an apply-result carries (a reporter that met a dashboard of that release speaks its
 * names until a dashboard grants a capability; one of an older build did not stop: break8).
 */
function legacyNamesRead(raw: unknown): unknown {
  const value = fromLegacyRevisionNames(raw);
  if (typeof value !== "object" || value === null) return value;
  const o = value as { type?: unknown; snapshot?: unknown };
  if (o.type !== "apply-result" || o.snapshot === undefined) return value;
  const snapshot = fromLegacyRevisionNames(o.snapshot);
  return snapshot === o.snapshot ? value : { ...o, snapshot };
}

export interface DecoderOptions {
  /** Validated `linux` parts shared by every connection's decoder (one per dashboard). */
  validatedRules?: ValidatedRules<FamilySnapshot[]>;
}

function versionOf(value: unknown): unknown {
  return typeof value === "object" && value !== null ? (value as { v?: unknown }).v : undefined;
}

/**
 * Decodes the frames of one reporter connection: the version of its first frame (the hello)
 * holds for the whole connection, and v1 frames are upgraded with what its hello said.
 */
export function createReporterDecoder(opts: DecoderOptions = {}): ReporterDecoder {
  let version: ProtocolVersion | undefined;
  let legacyNames = false;
  let helloV1: HelloV1 | undefined;
  const decodeV1 = (value: unknown): Decoded<ReporterMessage> => {
    const d = validateMessage(reporterMessageV1Schema, value);
    if (!d.ok) return d;
    if (d.msg.type === "hello") helloV1 = d.msg;
    const up = upgrade(d.msg, helloV1);
    if (typeof up === "string") return { ok: false, reason: up };
    // The upgrade must give a valid current message, like any other frame.
    return validateMessage(reporterMessageSchema, up);
  };
  return {
    get version() {
      return version;
    },
    get dialect() {
      return version === undefined ? undefined : { version, legacyNames };
    },
    decode(raw) {
      const frame = parseFrame(raw);
      if (!frame.ok) return frame;
      const v = versionOf(frame.value);
      if (!SUPPORTED_PROTOCOL_VERSIONS.some((s) => s === v))
        return {
          ok: false,
          reason: `v: protocol version ${JSON.stringify(v)} is not supported (${SUPPORTED_PROTOCOL_VERSIONS.join(", ")})`,
        };
      if (version !== undefined && v !== version)
        return { ok: false, reason: `v: protocol version ${v} after a version ${version} hello` };
      // A reporter of the previous release says `generation`: read in this release's names.
      const value = legacyNamesRead(frame.value);
      // Bytes, or for text an upper bound (3 UTF-8 bytes per UTF-16 unit at most).
      const bytes = typeof raw === "string" ? 3 * raw.length : raw.byteLength;
      const d = v === 1 ? decodeV1(value) : decodeCurrent(value, bytes, opts.validatedRules);
      if (d.ok && d.msg.type === "hello" && version === undefined) {
        version = v as ProtocolVersion;
        legacyNames = v === 1 || value !== frame.value;
      }
      return d;
    },
  };
}

/**
 * A dashboard frame for a reporter speaking `version` (the same message, labelled for it), in
 * the previous release's field names when `legacyNames` (always for v1).
 */
export function frameForVersion(
  frame: string,
  version: ProtocolVersion,
  legacyNames = version === 1,
): string {
  if (version === PROTOCOL_VERSION && !legacyNames) return frame;
  const d = validateMessage(dashboardMessageSchema, JSON.parse(frame));
  if (!d.ok) throw new Error(`not a dashboard message: ${d.reason}`);
  const msg: Omit<DashboardMessage, "v"> & { v: ProtocolVersion } = { ...d.msg, v: version };
  return JSON.stringify(legacyNames ? toLegacyRevisionNames(msg) : msg);
}
