// Versioned, schema-validated messages between reporter and dashboard. Anything that does
// not match is rejected with a reason and never acted upon. Version 2 carries every chain on
// the nat POSTROUTING path per family and iptables backend; the dashboard still accepts
// version 1 reporters (protocol-v1.ts) and answers each reporter in the version it speaks.
import { z } from "zod";
import { familySchema } from "./cidr.js";
import { agentFlagsSchema, masqConfigSchema } from "./config.js";
import { fromLegacyRevisionNames } from "./legacy-revision-names.js";
import {
  MAX_APPLY_DURATION_MS,
  MAX_APPLY_ERROR_CHARS,
  MAX_CHAIN_LINES,
  MAX_CHAIN_NAME_LENGTH,
  MAX_CNI_PATH_CHARS,
  MAX_CNI_POINTER_CHARS,
  MAX_EXCEPTION_ENTRIES,
  MAX_EXCEPTION_ENTRY_CHARS,
  MAX_EXCEPTION_LISTS,
  MAX_FAMILY_SNAPSHOTS,
  MAX_FRAME_BYTES,
  MAX_HEAL_WHAT_CHARS,
  MAX_HELLO_TEXT_CHARS,
  MAX_NFT_NAME_CHARS,
  MAX_NODE_NAME_CHARS,
  MAX_READ_ERROR_CHARS,
  MAX_REPORTER_VERSION_CHARS,
  MAX_REQUEST_ID_CHARS,
  MAX_RESOURCE_VERSION_CHARS,
  MAX_RULE_LINE_CHARS,
  MAX_SERVER_ERROR_CHARS,
  MAX_SNAPSHOT_CHAINS,
  MAX_SNAPSHOT_LINES,
  MAX_UNHEARD_HEALS,
  MAX_UNREAD_NOTE_LENGTH,
} from "./limits.js";
import { nftFamilySchema, nftObjectsSchema } from "./nft/schema.js";
import { rulesDigestSchema } from "./snapshot-digest.js";
import { zodReason } from "./zod-error.js";

export const PROTOCOL_VERSION = 2 as const;
/** Versions a dashboard accepts from reporters (oldest first). */
export const SUPPORTED_PROTOCOL_VERSIONS = [1, 2] as const;
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];
/** Frames above this size are refused by both ends (limits.ts). */
export const REPORTER_PATH = "/api/reporter";

const v = z.literal(PROTOCOL_VERSION);
/**
 * One `-S` line. `iptables -S` prints one rule per line, and the reporter splits its output on
 * newlines, so a line holding one is never real: refused, or it could read as two lines
 * wherever lines are joined (break10).
 */
const line = z
  .string()
  .max(MAX_RULE_LINE_CHARS)
  .refine((l) => !l.includes("\n"), "a rule line holds no newline (-S prints one rule per line)");

export const nodeNameSchema = z
  .string()
  .min(1)
  .max(MAX_NODE_NAME_CHARS)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "node names are lowercase DNS names");

export const modeSchema = z.enum(["enforce", "observe"]);
export type Mode = z.infer<typeof modeSchema>;
export const nodeOsSchema = z.enum(["linux", "windows"]);
export type NodeOs = z.infer<typeof nodeOsSchema>;
/**
 * Where a reporter writes: an iptables backend (`nf_tables` is iptables-nft, `legacy`), the
 * agent's own nftables table (`nftables`, native nft, no iptables), the Windows CNI config, or
 * memory (tests).
 */
export const backendKindSchema = z.enum(["nf_tables", "legacy", "nftables", "cni", "memory"]);
export type BackendKind = z.infer<typeof backendKindSchema>;
/** `immediate`: drift is healed as soon as it is seen; `next-resync`: at the next resync. */
export const healPolicySchema = z.enum(["immediate", "next-resync"]);
export type HealPolicy = z.infer<typeof healPolicySchema>;

/** The two ways iptables reaches the kernel; both hook nat POSTROUTING when both hold rules. */
export const iptablesBackendSchema = z.enum(["nf_tables", "legacy"]);
export type IptablesBackend = z.infer<typeof iptablesBackendSchema>;

/** A chain name as iptables prints it: no whitespace, not starting with "-" or "!". */
export const chainNameSchema = z
  .string()
  .min(1)
  .max(MAX_CHAIN_NAME_LENGTH)
  .regex(/^[^\s!-]\S*$/, "not an iptables chain name");

/** Every line of chain NAME is `-N NAME`, `-P NAME POLICY` or `-A NAME …`, as `-S NAME` prints. */
export function linesBelongTo(name: string, lines: readonly string[]): boolean {
  const n = `-N ${name}`;
  const p = `-P ${name} `;
  const a = `-A ${name} `;
  return lines.every((l) => l === n || l.startsWith(p) || l.startsWith(a));
}

export const chainSnapshotSchema = z
  .strictObject({
    name: chainNameSchema,
    /** `iptables -w -t nat -S NAME` lines, or null when the chain does not exist. */
    lines: z.array(line).max(MAX_CHAIN_LINES).nullable(),
  })
  .refine((c) => c.lines === null || linesBelongTo(c.name, c.lines), {
    message: "every line must be -N, -P or -A of this chain",
    path: ["lines"],
  });
export type ChainSnapshot = z.infer<typeof chainSnapshotSchema>;

/**
 * One family as one iptables backend holds it. `chains`: POSTROUTING first, then every chain
 * reachable from it (breadth-first through `-j`/`-g` targets that are not target extensions),
 * then the agent chain when nothing reaches it. In a message, the backend the reporter writes
 * to comes first for each family.
 */
export const familySnapshotSchema = z
  .strictObject({
    family: familySchema,
    backend: iptablesBackendSchema,
    chains: z.array(chainSnapshotSchema).max(MAX_SNAPSHOT_CHAINS),
    /** Chains reachable from POSTROUTING that were not read (a bound was hit, or see unreadNote). */
    unread: z.array(chainNameSchema).max(MAX_SNAPSHOT_CHAINS).optional(),
    /** Why `unread` chains (or more) were not read. */
    unreadNote: z.string().max(MAX_UNREAD_NOTE_LENGTH).optional(),
    /** The agent chain or POSTROUTING could not be read: nothing may be written blind. */
    readError: z.string().max(MAX_READ_ERROR_CHARS).optional(),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    let total = 0;
    for (const [i, c] of s.chains.entries()) {
      if (names.has(c.name))
        ctx.addIssue({ code: "custom", path: ["chains", i, "name"], message: "duplicate chain" });
      names.add(c.name);
      total += c.lines?.length ?? 0;
    }
    if (total > MAX_SNAPSHOT_LINES)
      ctx.addIssue({
        code: "custom",
        path: ["chains"],
        message: `more than ${MAX_SNAPSHOT_LINES} lines in one family snapshot`,
      });
  });
export type FamilySnapshot = z.infer<typeof familySnapshotSchema>;

/**
 * One family of a `linux` part with its chains named by digest (chain-digest.ts), in the
 * family's order; every other field as in familySnapshotSchema. Only where `chain-digests` was
 * granted (protocol-capabilities.ts).
 */
export const familyChainDigestsSchema = z
  .strictObject({
    family: familySchema,
    backend: iptablesBackendSchema,
    chains: z
      .array(z.strictObject({ name: chainNameSchema, digest: rulesDigestSchema }))
      .max(MAX_SNAPSHOT_CHAINS),
    unread: z.array(chainNameSchema).max(MAX_SNAPSHOT_CHAINS).optional(),
    unreadNote: z.string().max(MAX_UNREAD_NOTE_LENGTH).optional(),
    readError: z.string().max(MAX_READ_ERROR_CHARS).optional(),
  })
  .refine((f) => new Set(f.chains.map((c) => c.name)).size === f.chains.length, {
    message: "duplicate chain",
    path: ["chains"],
  });
export type FamilyChainDigests = z.infer<typeof familyChainDigestsSchema>;

/**
 * No family and backend twice in a `linux` or `linuxChains` part: one backend holds one nat
 * table per family, and the analysis takes two entries for two backends ("rules in nf_tables
 * and nf_tables", a backend conflict that is not there).
 */
export function familiesUnique(families: readonly { family: string; backend: string }[]): boolean {
  return unique(families, (f) => `${f.family}/${f.backend}`);
}

/** No two items of a list the code reads as a set share their key. */
function unique<T>(items: readonly T[], key: (item: T) => unknown): boolean {
  const seen = new Set<unknown>();
  for (const i of items) seen.add(key(i));
  return seen.size === items.length;
}

const DUPLICATE_FAMILY = "a family and backend twice (one backend holds one table per family)";

/** A list of family parts of a snapshot: bounded, each family and backend once. */
function familyList<S extends z.ZodType<{ family: string; backend: string }>>(item: S) {
  return z
    .array(item)
    .max(MAX_FAMILY_SNAPSHOTS)
    .refine(familiesUnique, { message: DUPLICATE_FAMILY });
}
export type ChainRef = FamilyChainDigests["chains"][number];

/** A chain of an nftables table: `inet ip_masq_agent postrouting`. */
export const nftChainRefSchema = z.strictObject({
  family: nftFamilySchema,
  table: z.string().min(1).max(MAX_NFT_NAME_CHARS),
  chain: z.string().min(1).max(MAX_NFT_NAME_CHARS),
});
export type NftChainRef = z.infer<typeof nftChainRefSchema>;

/**
 * What a reporter on a native nftables node read, for both families at once (an `inet` table
 * holds both). `ruleset` is the `nftables` array of `nft -j list …` output: the agent's table
 * whole, and of every other table with a base chain on the nat postrouting hook (ip, ip6,
 * inet), the table, those base chains, the chains they reach and the sets and maps their rules
 * look up. A chain that is reached but not listed is unknown to the analysis; `unread` names
 * the ones left out on purpose (a bound), with `unreadNote` saying why. The ip/ip6 `nat` tables
 * of iptables-nft belong in the iptables family snapshots when those are read too.
 */
export const nftSnapshotSchema = z.strictObject({
  backend: z.literal("nftables"),
  ruleset: nftObjectsSchema,
  unread: z.array(nftChainRefSchema).max(MAX_SNAPSHOT_CHAINS).optional(),
  unreadNote: z.string().max(MAX_UNREAD_NOTE_LENGTH).optional(),
  /** The agent's table or the hook's chains could not be read: nothing may be written blind. */
  readError: z.string().max(MAX_READ_ERROR_CHARS).optional(),
});
export type NftSnapshot = z.infer<typeof nftSnapshotSchema>;

export const exceptionListSchema = z.strictObject({
  /** JSON pointer of the list inside the CNI config. */
  pointer: z.string().max(MAX_CNI_POINTER_CHARS),
  form: z.enum(["EndpointPolicy", "OutBoundNAT"]),
  exceptions: z.array(z.string().max(MAX_EXCEPTION_ENTRY_CHARS)).max(MAX_EXCEPTION_ENTRIES),
});
export type ExceptionListSnapshot = z.infer<typeof exceptionListSchema>;

export const windowsSnapshotSchema = z.strictObject({
  path: z.string().max(MAX_CNI_PATH_CHARS),
  /** One per JSON pointer: the drift reads each list as a place of its own in the file. */
  lists: z
    .array(exceptionListSchema)
    .max(MAX_EXCEPTION_LISTS)
    .refine((ls) => unique(ls, (l) => l.pointer), {
      message: "two exception lists at one JSON pointer",
    }),
  readError: z.string().max(MAX_READ_ERROR_CHARS).optional(),
});
export type WindowsSnapshot = z.infer<typeof windowsSnapshotSchema>;

const revision = z.number().int().nonnegative();

export const helloSchema = z.strictObject({
  type: z.literal("hello"),
  v,
  node: nodeNameSchema,
  os: nodeOsSchema,
  kernel: z.string().max(MAX_HELLO_TEXT_CHARS),
  iptablesVersion: z.string().max(MAX_HELLO_TEXT_CHARS),
  /** Where the reporter writes (Linux: the iptables backend holding the node's rules). */
  backend: backendKindSchema,
  /** Linux: every iptables backend whose nat POSTROUTING holds rules (both are read). */
  ruleBackends: z
    .array(iptablesBackendSchema)
    .max(2)
    .refine((bs) => unique(bs, (b) => b), { message: "a backend named twice" })
    .optional(),
  randomFullySupported: z.boolean(),
  mode: modeSchema,
  flags: agentFlagsSchema,
  reporterVersion: z.string().max(MAX_REPORTER_VERSION_CHARS),
  appliedRevision: revision.nullable(),
});

/** When the reporter re-applies on its own (enforce mode); times on the reporter's clock. */
export const resyncScheduleSchema = z.strictObject({
  heal: healPolicySchema,
  /** The resync interval in use; null when there is nothing to enforce (observe, no config). */
  resyncMs: z.number().int().positive().nullable(),
  /** When the resync timer fires next; null when none is scheduled. */
  nextResyncAt: z.number().int().nonnegative().nullable(),
});
export type ResyncSchedule = z.infer<typeof resyncScheduleSchema>;

export const snapshotSchema = z.strictObject({
  type: z.literal("snapshot"),
  v,
  seq: z.number().int().nonnegative(),
  takenAt: z.number().int().nonnegative(),
  linux: familyList(familySnapshotSchema).optional(),
  /**
   * The digest of `linux` (snapshot-digest.ts), only where the connection was granted
   * `snapshot-digests` (protocol-capabilities.ts): alone, in place of `linux`, when the
   * reporter takes the dashboard to hold that content; beside it when sent whole (the
   * dashboard checks it against the content). Absent from older reporters.
   */
  linuxDigest: rulesDigestSchema.optional(),
  /**
   * Each chain of `linux` by its digest (chain-digest.ts), only where the connection was
   * granted `chain-digests`: alone, in place of `linux`, when the reporter takes the dashboard
   * to hold those chains; beside it when sent whole (the dashboard checks every digest).
   */
  linuxChains: familyList(familyChainDigestsSchema).optional(),
  windows: windowsSnapshotSchema.optional(),
  /** A native nftables node (backend `nftables`); absent from older reporters. */
  nftables: nftSnapshotSchema.optional(),
  appliedRevision: revision.nullable(),
  /** Absent from older reporters. */
  schedule: resyncScheduleSchema.optional(),
});

export const applyTriggerSchema = z.enum([
  "desired",
  "resync",
  "periodic",
  "startup",
  "heal",
  "cli",
]);
export type ApplyTrigger = z.infer<typeof applyTriggerSchema>;

export const applyResultSchema = z.strictObject({
  type: z.literal("apply-result"),
  v,
  revision: revision.nullable(),
  ok: z.boolean(),
  error: z.string().max(MAX_APPLY_ERROR_CHARS).optional(),
  durationMs: z
    .number()
    .nonnegative()
    .max(MAX_APPLY_DURATION_MS, `an apply takes at most ${MAX_APPLY_DURATION_MS} ms (a day)`),
  trigger: applyTriggerSchema,
  changed: z.boolean(),
  /**
   * The snapshot read right after this apply, sent in the same frame; only where the
   * connection was granted `apply-result-snapshot` (protocol-capabilities.ts).
   */
  snapshot: snapshotSchema.optional(),
});

export const heartbeatSchema = z.strictObject({
  type: z.literal("heartbeat"),
  v,
  ts: z.number().int().nonnegative(),
});

/** Latest time a reporter's clock may name (ms): the end of year 9999, as a Date can say. */
const MAX_CLOCK_MS = 253_402_300_799_999;

/** One heal the reporter made of drifted rules while no dashboard heard it. */
export const unheardHealSchema = z.strictObject({
  /** When the heal's apply ran, on the reporter's clock (ms). */
  at: z.number().int().nonnegative().max(MAX_CLOCK_MS),
  /** The revision whose rules it wrote back (the one the node ran); null: a mounted config's. */
  revision: revision.nullable(),
  /** What differed, in a few words (the drift summary of its last read), null when not read. */
  what: z
    .string()
    .min(1)
    .max(MAX_HEAL_WHAT_CHARS)
    .refine((t) => !/[\n\r]/.test(t), "one line")
    .nullable(),
});
export type UnheardHeal = z.infer<typeof unheardHealSchema>;

/**
 * The heals of drift the reporter made while its link was not open, sent once after hello,
 * only where the connection was granted `unheard-heals` (protocol-capabilities.ts). Oldest
 * first (by when they were made: the reporter's clock may have stepped); `dropped`: older heals
 * not kept (MAX_UNHEARD_HEALS are).
 */
export const unheardHealsSchema = z.strictObject({
  type: z.literal("unheard-heals"),
  v,
  heals: z.array(unheardHealSchema).min(1).max(MAX_UNHEARD_HEALS),
  dropped: z.number().int().nonnegative(),
});
export type UnheardHeals = z.infer<typeof unheardHealsSchema>;

export const reporterMessageSchema = z.discriminatedUnion("type", [
  helloSchema,
  snapshotSchema,
  applyResultSchema,
  heartbeatSchema,
  unheardHealsSchema,
]);
export type ReporterMessage = z.infer<typeof reporterMessageSchema>;
export type Hello = z.infer<typeof helloSchema>;
export type Snapshot = z.infer<typeof snapshotSchema>;
export type ApplyResult = z.infer<typeof applyResultSchema>;

export const welcomeSchema = z.strictObject({
  type: z.literal("welcome"),
  v,
  serverTime: z.number().int(),
  heartbeatMs: z.number().int().positive(),
});
export const desiredSchema = z.strictObject({
  type: z.literal("desired"),
  v,
  revision,
  resourceVersion: z.string().max(MAX_RESOURCE_VERSION_CHARS),
  config: masqConfigSchema,
});
export const resyncSchema = z.strictObject({
  type: z.literal("resync"),
  v,
  requestId: z.string().max(MAX_REQUEST_ID_CHARS),
});
/**
 * The dashboard does not hold the content of a snapshot's `linuxDigest` (evicted, restarted,
 * another replica): the reporter sends its latest snapshot whole. Sent only where
 * `snapshot-digests` was granted.
 */
export const snapshotRequestSchema = z.strictObject({
  type: z.literal("snapshot-request"),
  v,
  /** The digest the dashboard did not know (for the reporter's log). */
  digest: rulesDigestSchema,
});
export const serverErrorSchema = z.strictObject({
  type: z.literal("error"),
  v,
  reason: z.string().max(MAX_SERVER_ERROR_CHARS),
});

export const dashboardMessageSchema = z.discriminatedUnion("type", [
  welcomeSchema,
  desiredSchema,
  resyncSchema,
  snapshotRequestSchema,
  serverErrorSchema,
]);
export type DashboardMessage = z.infer<typeof dashboardMessageSchema>;
export type Desired = z.infer<typeof desiredSchema>;
export type SnapshotRequest = z.infer<typeof snapshotRequestSchema>;

export type Decoded<T> = { ok: true; msg: T } | { ok: false; reason: string };

function byteLength(raw: string | Uint8Array): number {
  return typeof raw === "string" ? new TextEncoder().encode(raw).length : raw.byteLength;
}

/** The JSON value of one frame, or why it is not one (too large, not UTF-8, not JSON). */
/** One strict decoder for every frame: a non-streaming decode keeps no state between calls. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function parseFrame(
  raw: string | Uint8Array,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (byteLength(raw) > MAX_FRAME_BYTES)
    return { ok: false, reason: `frame larger than ${MAX_FRAME_BYTES} bytes` };
  try {
    const text = typeof raw === "string" ? raw : utf8.decode(raw);
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
}

/** Validates a parsed frame; the reason names the first problem. */
export function validateMessage<T>(schema: z.ZodType<T>, value: unknown): Decoded<T> {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, msg: r.data };
  return { ok: false, reason: zodReason(r.error) };
}

/** Parses and validates one frame; the reason names the first problem. */
export function decodeMessage<T>(schema: z.ZodType<T>, raw: string | Uint8Array): Decoded<T> {
  const frame = parseFrame(raw);
  return frame.ok ? validateMessage(schema, frame.value) : frame;
}

export function decodeReporterMessage(raw: string | Uint8Array): Decoded<ReporterMessage> {
  return decodeMessage(reporterMessageSchema, raw);
}

/**
 * A dashboard's frame; a `desired` in the previous release's names (`generation`, a string
 * `revision`) is read in this release's (legacy-revision-names.ts): `legacy` says it was.
 */
export function decodeDashboardMessage(
  raw: string | Uint8Array,
): Decoded<DashboardMessage> & { legacy?: boolean } {
  const frame = parseFrame(raw);
  if (!frame.ok) return frame;
  const value = fromLegacyRevisionNames(frame.value);
  const d = validateMessage(dashboardMessageSchema, value);
  return d.ok && value !== frame.value ? { ...d, legacy: true } : d;
}

export function encodeMessage(msg: ReporterMessage | DashboardMessage): string {
  return JSON.stringify(msg);
}
