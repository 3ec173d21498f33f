// The write half of the real backend: plan and write each family of the backend holding the
// node's rules, verify by reading back, roll back on a mismatch, and never leave the agent
// chain in two backends silently (refused before a write that would create a second one,
// reported after a write when the other backend already acts on packets).
import {
  type AgentFlags,
  type ApplyTrigger,
  BACKEND_LABELS,
  chainLines,
  type Family,
  type FamilySnapshot,
  type IptablesBackend,
  type MasqConfig,
  renderApplyPayload,
} from "@masq/shared";
import { refusal } from "../config-check.js";
import type { Logger } from "../log.js";
import { logApplyFinished } from "./apply-log.js";
import { planWrite, rollbackPayload, verifyProblems } from "./plan.js";
import type { ApplyOutcome } from "./types.js";

export interface WriteOps {
  /** The backend written to, and why. */
  primary: IptablesBackend;
  reason: string;
  chain: string;
  /** One `iptables-restore --noflush` transaction; the error text, or undefined. */
  restore(family: Family, payload: string): Promise<string | undefined>;
  read(): Promise<FamilySnapshot[]>;
  log: Logger;
}

export type WriteOutcome = Omit<ApplyOutcome, "durationMs"> & {
  /** Refused: the agent chain is in another backend than the one detected as the node's. */
  wrongBackend?: boolean;
};

const other = (b: IptablesBackend) => (b === "legacy" ? "legacy" : "nft");

/** Snapshots of backends not written to that hold the agent chain. */
function elsewhere(snaps: readonly FamilySnapshot[], ops: WriteOps): FamilySnapshot[] {
  return snaps.filter((s) => s.backend !== ops.primary && chainLines(s, ops.chain) != null);
}

/** Refusals before any write: unreadable rules, or a chain that would be a second copy. */
function blocker(
  before: FamilySnapshot[],
  ops: WriteOps,
): { error: string; wrongBackend?: boolean } | undefined {
  const own = before.filter((s) => s.backend === ops.primary);
  const unreadable = own.find((s) => s.readError);
  if (unreadable) return { error: `cannot read current rules: ${unreadable.readError}` };
  for (const o of elsewhere(before, ops)) {
    const mine = own.find((s) => s.family === o.family);
    if (mine && chainLines(mine, ops.chain) == null)
      return {
        wrongBackend: true,
        error: `${ops.chain} exists in ${BACKEND_LABELS[o.backend]} (${o.family}), but this node's rules are in ${BACKEND_LABELS[ops.primary]} (${ops.reason}): writing would create a second chain acting on the same packets; remove the ${BACKEND_LABELS[o.backend]} chain and its jump, or run with --iptables ${other(o.backend)}`,
      };
  }
  return undefined;
}

async function verifyOrRollback(
  ops: WriteOps,
  config: MasqConfig,
  flags: AgentFlags,
  before: FamilySnapshot,
  after: FamilySnapshot | undefined,
): Promise<{ error: string; rolledBack: boolean } | undefined> {
  if (!after) return { error: `${before.family} was not read back`, rolledBack: false };
  const problems = verifyProblems(config, flags, after);
  if (problems.length === 0) return undefined;
  if (after.readError)
    return { error: `applied but not verified: ${after.readError}`, rolledBack: false };
  const failed = `${before.family} verification failed (${problems.join("; ")})`;
  const rbError = await ops.restore(before.family, rollbackPayload(ops.chain, before, after));
  ops.log.error(
    { family: before.family, problems, rollbackError: rbError },
    "apply verification failed",
  );
  return rbError
    ? {
        error: `${failed}; restoring the previous rules also failed: ${rbError}`,
        rolledBack: false,
      }
    : { error: `${failed}; previous rules restored`, rolledBack: true };
}

/** Writes every family that needs it; returns what was written and the write errors. */
async function writeFamilies(
  ops: WriteOps,
  config: MasqConfig,
  flags: AgentFlags,
  before: FamilySnapshot[],
) {
  const errors: string[] = [];
  const written: FamilySnapshot[] = [];
  for (const snap of before.filter((s) => s.backend === ops.primary)) {
    const plan = planWrite(config, flags, snap);
    if (!plan) continue;
    const error = await ops.restore(
      snap.family,
      renderApplyPayload(config, flags, snap.family, plan),
    );
    if (error) errors.push(error);
    else written.push(snap);
  }
  return { errors, written };
}

/** One apply (see the file comment), logged once; never throws for what the node says. */
export async function writeConfig(
  ops: WriteOps,
  config: MasqConfig,
  flags: AgentFlags,
  trigger: ApplyTrigger,
): Promise<WriteOutcome> {
  const o = await writeOnce(ops, config, flags);
  logApplyFinished(ops.log, trigger, o);
  return o;
}

async function writeOnce(
  ops: WriteOps,
  config: MasqConfig,
  flags: AgentFlags,
): Promise<WriteOutcome> {
  const refused = refusal(config, flags);
  if (refused)
    return { ok: false, changed: false, rolledBack: false, error: refused, snapshots: [] };
  const before = await ops.read();
  const blocked = blocker(before, ops);
  if (blocked)
    return { ok: false, changed: false, rolledBack: false, snapshots: before, ...blocked };
  const { errors, written } = await writeFamilies(ops, config, flags, before);
  let after = written.length > 0 ? await ops.read() : before;
  let rolledBack = false;
  for (const prev of written) {
    const now = after.find((s) => s.family === prev.family && s.backend === ops.primary);
    const v = await verifyOrRollback(ops, config, flags, prev, now);
    if (v) errors.push(v.error);
    rolledBack ||= v?.rolledBack ?? false;
  }
  if (rolledBack) after = await ops.read();
  for (const o of elsewhere(after, ops))
    errors.push(
      `${ops.chain} also exists in ${BACKEND_LABELS[o.backend]} (${o.family}): both chains act on packets; this reporter writes only to ${BACKEND_LABELS[ops.primary]}, remove the other chain and its jump`,
    );
  const error = errors.length > 0 ? errors.join("; ") : undefined;
  return {
    ok: !error,
    changed: written.length > 0,
    rolledBack,
    snapshots: after,
    ...(error ? { error } : {}),
  };
}
