// The real node. Reads, per family, the nat POSTROUTING path of every iptables backend that
// holds nat rules (detect.ts decides which one holds the node's rules, as iptables-wrappers
// does; family-read.ts reads the path, never the whole table). Writes only to that backend:
// one `iptables-restore --noflush -w` transaction per family, verified by reading back, the
// previous rules restored when the result differs. It never creates the agent chain in one
// backend while the other holds it, and reports the chain in both as a failed apply.
import { release } from "node:os";
import { performance } from "node:perf_hooks";
import {
  type AgentFlags,
  type ApplyTrigger,
  BACKEND_LABELS,
  chainLines,
  type Family,
  type FamilySnapshot,
  familiesFor,
  type IptablesBackend,
  type MasqConfig,
  renderApplyPayload,
} from "@masq/shared";
import { refusal } from "../config-check.js";
import { type ExecResult, exec } from "../exec.js";
import { type Logger, silentLogger } from "../log.js";
import { natEventFilter, startWatcher } from "../watcher.js";
import {
  type BackendChoice,
  type BackendProbe,
  chooseBackends,
  familyTools,
  IPTABLES_BACKENDS,
  probeBackend,
} from "./detect.js";
import { readFamily } from "./family-read.js";
import { versionAtLeast } from "./iptables-version.js";
import { planWrite, rollbackPayload, verifyProblems } from "./plan.js";
import { LEGACY_TABLES_WARNING } from "./read.js";
import type { ApplyOutcome, BackendInfo, ChangeSource, LinuxBackend, Watch } from "./types.js";
import type { WalkBounds } from "./walk.js";

export { parseIptablesVersion, versionAtLeast } from "./iptables-version.js";

/** Programs that can be replaced: the writing restores (tests inject failing ones), helpers. */
export interface IptablesBinaries {
  iptablesRestore: string;
  ip6tablesRestore: string;
  monitor: string;
  nft: string;
}

/** "auto" follows the backend holding the node's rules; the others force it. */
export type IptablesVariant = "auto" | "nft" | "legacy";

const FORCED: Record<IptablesVariant, IptablesBackend | undefined> = {
  auto: undefined,
  nft: "nf_tables",
  legacy: "legacy",
};

export interface IptablesBackendOptions {
  netns?: string;
  flags: AgentFlags;
  logger?: Logger;
  /** Fallback poll of the chains (default 10 s). */
  pollIntervalMs?: number;
  variant?: IptablesVariant;
  binaries?: Partial<IptablesBinaries>;
  /** Follow xtables-monitor on nf_tables (default true). */
  monitor?: boolean;
  /** Per-command timeout (default 30 s). */
  timeoutMs?: number;
  /** How often the backends are detected again (default 5 min). */
  detectIntervalMs?: number;
  walkBounds?: Partial<WalkBounds>;
}

const MIN_RANDOM_FULLY = [1, 6, 2];
export const DETECT_INTERVAL_MS = 5 * 60_000;

interface Detected {
  choice: BackendChoice;
  probes: Map<IptablesBackend, BackendProbe>;
  info: BackendInfo;
  at: number;
}

function infoFrom(
  choice: BackendChoice,
  probes: Map<IptablesBackend, BackendProbe>,
  monitor: boolean,
): BackendInfo {
  const version = probes.get(choice.primary)?.version ?? "";
  const ruleBackends = IPTABLES_BACKENDS.filter((b) =>
    Object.values(probes.get(b)?.nat ?? {}).some((n) => (n?.postrouting ?? 0) > 0),
  );
  const both = Object.values(choice.read).some((r) => r.length > 1);
  return {
    backend: choice.primary,
    iptablesVersion: version,
    randomFullySupported: version !== "" && versionAtLeast(version, MIN_RANDOM_FULLY),
    kernel: release(),
    monitor: choice.primary === "nf_tables" && monitor,
    warnings: both
      ? [
          `nat rules in both ${BACKEND_LABELS.nf_tables} and ${BACKEND_LABELS.legacy}: both act on packets; both are read, ${BACKEND_LABELS[choice.primary]} is written (${choice.reason})`,
        ]
      : [],
    ruleBackends,
    backendReason: choice.reason,
  };
}

export function createIptablesBackend(opts: IptablesBackendOptions): LinuxBackend {
  const log = opts.logger ?? silentLogger();
  const families = familiesFor(opts.flags);
  const chain = opts.flags.masqChain;
  const forced = FORCED[opts.variant ?? "auto"];
  const bin = { monitor: "xtables-monitor", nft: "nft", ...opts.binaries };
  let detected: Promise<Detected> | undefined;
  let redetect = false;
  let lock: Promise<unknown> = Promise.resolve();
  /** Chains of the last read per family and backend: listed up front, and what events matter. */
  const lastNames = new Map<string, string[]>();
  const watched = new Set<string>();

  let last: Detected | undefined;
  const noteWarnings = (r: ExecResult) => {
    // iptables-nft says so whenever legacy tables exist: look again if there were none.
    if (!LEGACY_TABLES_WARNING.test(r.stderr) || !last || redetect) return;
    if ((last.probes.get("legacy")?.tables ?? []).length > 0) return;
    redetect = true;
    log.warn(
      "iptables-legacy tables appeared next to nf_tables ones: detecting the backends again",
    );
  };
  const run = async (argv: string[], input?: string) => {
    const r = await exec(argv, { netns: opts.netns, timeoutMs: opts.timeoutMs, input });
    noteWarnings(r);
    return r;
  };

  async function detectNow(): Promise<Detected> {
    const list = await Promise.all(
      IPTABLES_BACKENDS.map((b) => probeBackend(run, b, families, chain)),
    );
    const probes = new Map(list.map((p) => [p.backend, p]));
    const choice = chooseBackends(list, families, forced);
    if (probes.get(choice.primary)?.suffix === undefined)
      throw new Error(`${BACKEND_LABELS[choice.primary]} is not installed on this node`);
    log.info(
      { primary: choice.primary, read: choice.read, reason: choice.reason },
      "iptables backends detected",
    );
    last = {
      choice,
      probes,
      info: infoFrom(choice, probes, opts.monitor !== false),
      at: Date.now(),
    };
    return last;
  }

  /** Detected at start, again on a slow cadence and when legacy tables appear. */
  const current = (): Promise<Detected> => {
    const force = redetect;
    redetect = false;
    const stale = (d: Detected) =>
      force || Date.now() - d.at > (opts.detectIntervalMs ?? DETECT_INTERVAL_MS);
    const next = (detected ?? Promise.reject(new Error("not detected yet"))).then(
      (d) => (stale(d) ? detectNow() : d),
      () => detectNow(),
    );
    detected = next;
    return next;
  };

  const info = async (): Promise<BackendInfo> => ({ ...(await current()).info });
  const effectiveFlags = async (): Promise<AgentFlags> => {
    const i = await info();
    return { ...opts.flags, randomFully: opts.flags.randomFully && i.randomFullySupported };
  };

  const toolsOf = (d: Detected, backend: IptablesBackend, family: Family) =>
    familyTools(d.probes.get(backend)?.suffix ?? "", family);

  async function readWith(d: Detected): Promise<FamilySnapshot[]> {
    const jobs = families.flatMap((family) =>
      d.choice.read[family].map((backend) => {
        const key = `${family}|${backend}`;
        return readFamily({
          run,
          family,
          backend,
          tools: toolsOf(d, backend, family),
          agentChain: chain,
          nft: bin.nft,
          prefetch: lastNames.get(key),
          bounds: opts.walkBounds,
        }).then((snap) => {
          lastNames.set(
            key,
            snap.chains.map((c) => c.name),
          );
          return snap;
        });
      }),
    );
    const snaps = await Promise.all(jobs);
    watched.clear();
    for (const s of snaps)
      if (s.backend === "nf_tables") for (const c of s.chains) watched.add(c.name);
    return snaps;
  }

  const read = async () => readWith(await current());

  async function restore(
    d: Detected,
    family: Family,
    payload: string,
  ): Promise<string | undefined> {
    const tool =
      (family === "ipv4" ? bin.iptablesRestore : bin.ip6tablesRestore) ??
      toolsOf(d, d.choice.primary, family).restore;
    const r = await run([tool, "--noflush", "-w"], payload);
    return r.code === 0 ? undefined : `${tool} failed: ${r.stderr.trim() || `exit ${r.code}`}`;
  }

  // The apply: plan and write per family, verify, roll back, and check the other backend.
  const ops = { restore, read: readWith, log, chain };

  const apply = (config: MasqConfig, trigger: ApplyTrigger): Promise<ApplyOutcome> => {
    const next = lock.then(async () => {
      const t0 = performance.now();
      const o = await applyNow(ops, await current(), config, await effectiveFlags(), trigger);
      return { ...o, durationMs: performance.now() - t0 };
    });
    lock = next.catch(() => {});
    return next;
  };

  function watch(onChange: (source: ChangeSource) => void): Watch {
    let inner: Watch | undefined;
    let closed = false;
    const pollIntervalMs = opts.pollIntervalMs ?? 10_000;
    const start = (monitor: boolean) => {
      if (closed) return;
      const monitorArgv = monitor
        ? ["stdbuf", "-oL", bin.monitor, "-e", ...(families.length === 1 ? ["-4"] : [])]
        : null;
      inner = startWatcher({
        monitorArgv,
        netns: opts.netns,
        isRelevant: natEventFilter(watched, chain, families),
        onChange,
        pollIntervalMs,
        logger: log,
      });
    };
    info().then(
      (i) => start(i.monitor),
      (e: Error) => {
        log.error({ err: e.message }, "cannot detect iptables; polling only");
        start(false);
      },
    );
    return {
      close() {
        closed = true;
        inner?.close();
      },
    };
  }

  return { info, effectiveFlags, read, apply, watch };
}

interface ApplyOps {
  restore(d: Detected, family: Family, payload: string): Promise<string | undefined>;
  read(d: Detected): Promise<FamilySnapshot[]>;
  log: Logger;
  chain: string;
}

type Outcome = Omit<ApplyOutcome, "durationMs">;

/** Per family, the agent chain in a backend that is not written to (the primary comes first). */
function elsewhere(snaps: readonly FamilySnapshot[], primary: IptablesBackend, chain: string) {
  return snaps.filter((s) => s.backend !== primary && chainLines(s, chain) != null);
}

/** Refusals before any write: unreadable rules, or a chain that would be a second copy. */
function blockers(before: FamilySnapshot[], d: Detected, chain: string): string | undefined {
  const own = before.filter((s) => s.backend === d.choice.primary);
  const unreadable = own.find((s) => s.readError);
  if (unreadable) return `cannot read current rules: ${unreadable.readError}`;
  for (const other of elsewhere(before, d.choice.primary, chain)) {
    const mine = own.find((s) => s.family === other.family);
    if (mine && chainLines(mine, chain) == null)
      return `${chain} exists in ${BACKEND_LABELS[other.backend]} (${other.family}), but this node's rules are in ${BACKEND_LABELS[d.choice.primary]} (${d.choice.reason}): writing would create a second chain acting on the same packets; remove the ${BACKEND_LABELS[other.backend]} chain and its jump, or run with --iptables ${other.backend === "legacy" ? "legacy" : "nft"}`;
  }
  return undefined;
}

async function verifyOrRollback(
  ops: ApplyOps,
  d: Detected,
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
  const rbError = await ops.restore(d, before.family, rollbackPayload(ops.chain, before, after));
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

async function applyNow(
  ops: ApplyOps,
  d: Detected,
  config: MasqConfig,
  flags: AgentFlags,
  trigger: ApplyTrigger,
): Promise<Outcome> {
  const refused = refusal(config, flags);
  if (refused)
    return { ok: false, changed: false, rolledBack: false, error: refused, snapshots: [] };
  const before = await ops.read(d);
  const blocked = blockers(before, d, ops.chain);
  if (blocked)
    return { ok: false, changed: false, rolledBack: false, error: blocked, snapshots: before };
  const primary = d.choice.primary;
  const errors: string[] = [];
  const written: FamilySnapshot[] = [];
  for (const snap of before.filter((s) => s.backend === primary)) {
    const plan = planWrite(config, flags, snap);
    if (!plan) continue;
    const error = await ops.restore(
      d,
      snap.family,
      renderApplyPayload(config, flags, snap.family, plan),
    );
    if (error) errors.push(error);
    else written.push(snap);
  }
  let after = written.length > 0 ? await ops.read(d) : before;
  let rolledBack = false;
  for (const prev of written) {
    const now = after.find((s) => s.family === prev.family && s.backend === primary);
    const v = await verifyOrRollback(ops, d, config, flags, prev, now);
    if (v) errors.push(v.error);
    rolledBack ||= v?.rolledBack ?? false;
  }
  if (rolledBack) after = await ops.read(d);
  for (const other of elsewhere(after, primary, ops.chain))
    errors.push(
      `${ops.chain} also exists in ${BACKEND_LABELS[other.backend]} (${other.family}): both chains act on packets; this reporter writes only to ${BACKEND_LABELS[primary]}, remove the other chain and its jump`,
    );
  ops.log.info({ trigger, changed: written.length > 0, ok: errors.length === 0 }, "apply finished");
  const error = errors.length > 0 ? errors.join("; ") : undefined;
  return {
    ok: !error,
    changed: written.length > 0,
    rolledBack,
    snapshots: after,
    ...(error ? { error } : {}),
  };
}
