// The real node: reads IP-MASQ-AGENT and POSTROUTING with `iptables -w -t nat -S CHAIN` (never
// the whole table), applies with one `iptables-restore --noflush -w` transaction per family,
// verifies by reading back and restores the previous rules when the result differs.
import { release } from "node:os";
import { performance } from "node:perf_hooks";
import {
  type AgentFlags,
  type ApplyTrigger,
  type Family,
  type FamilySnapshot,
  familiesFor,
  type MasqConfig,
  renderApplyPayload,
} from "@masq/shared";
import { refusal } from "../config-check.js";
import { type ExecResult, exec } from "../exec.js";
import { type Logger, silentLogger } from "../log.js";
import { natEventFilter, startWatcher } from "../watcher.js";
import { planWrite, rollbackPayload, verifyProblems } from "./plan.js";
import {
  classifyChainRead,
  firstLine,
  jumpsTo,
  LEGACY_TABLES_WARNING,
  MAX_SNAPSHOT_LINES,
} from "./read.js";
import type { ApplyOutcome, BackendInfo, ChangeSource, LinuxBackend, Watch } from "./types.js";

export interface IptablesBinaries {
  iptables: string;
  iptablesRestore: string;
  ip6tables: string;
  ip6tablesRestore: string;
  monitor: string;
  nft: string;
}

/** "auto" runs whatever `iptables` is on the node; the others pick iptables-nft / -legacy. */
export type IptablesVariant = "auto" | "nft" | "legacy";

export function binariesFor(variant: IptablesVariant): IptablesBinaries {
  const suffix = variant === "auto" ? "" : variant === "nft" ? "-nft" : "-legacy";
  return {
    iptables: `iptables${suffix}`,
    iptablesRestore: `iptables${suffix}-restore`,
    ip6tables: `ip6tables${suffix}`,
    ip6tablesRestore: `ip6tables${suffix}-restore`,
    monitor: "xtables-monitor",
    nft: "nft",
  };
}

export interface IptablesBackendOptions {
  netns?: string;
  flags: AgentFlags;
  logger?: Logger;
  /** Fallback poll of the two chains (default 10 s). */
  pollIntervalMs?: number;
  variant?: IptablesVariant;
  /** Override single programs (tests inject failing restores this way). */
  binaries?: Partial<IptablesBinaries>;
  /** Follow xtables-monitor on nf_tables (default true). */
  monitor?: boolean;
  /** Per-command timeout (default 30 s). */
  timeoutMs?: number;
}

const MIN_RANDOM_FULLY = [1, 6, 2];

export function parseIptablesVersion(text: string): {
  version: string;
  backend: "nf_tables" | "legacy";
} {
  const version = /v(\d+(?:\.\d+)+)/.exec(text)?.[1];
  if (!version) throw new Error(`cannot read the iptables version from "${text.trim()}"`);
  return { version: `v${version}`, backend: /nf_tables/.test(text) ? "nf_tables" : "legacy" };
}

export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i]!;
  }
  return true;
}

export function createIptablesBackend(opts: IptablesBackendOptions): LinuxBackend {
  const bin = { ...binariesFor(opts.variant ?? "auto"), ...opts.binaries };
  const log = opts.logger ?? silentLogger();
  const run = (argv: string[], input?: string) =>
    exec(argv, { netns: opts.netns, timeoutMs: opts.timeoutMs, input });
  const families = familiesFor(opts.flags);
  const chain = opts.flags.masqChain;
  const warnings = new Set<string>();
  let infoPromise: Promise<BackendInfo> | undefined;
  let lock: Promise<unknown> = Promise.resolve();

  /** Detected once; warnings noticed by later reads are added. */
  const info = async (): Promise<BackendInfo> => {
    infoPromise ??= detect().catch((e) => {
      infoPromise = undefined;
      throw e;
    });
    return { ...(await infoPromise), warnings: [...warnings] };
  };

  async function detect(): Promise<BackendInfo> {
    const r = await exec([bin.iptables, "-V"], { timeoutMs: opts.timeoutMs });
    if (r.code !== 0)
      throw new Error(`${bin.iptables} -V failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
    const v = parseIptablesVersion(r.stdout);
    return {
      backend: v.backend,
      iptablesVersion: v.version,
      randomFullySupported: versionAtLeast(v.version, MIN_RANDOM_FULLY),
      kernel: release(),
      monitor: v.backend === "nf_tables" && opts.monitor !== false,
      warnings: [],
    };
  }

  const effectiveFlags = async (): Promise<AgentFlags> => {
    const i = await info();
    return { ...opts.flags, randomFully: opts.flags.randomFully && i.randomFullySupported };
  };

  const tool = (family: Family) => (family === "ipv4" ? bin.iptables : bin.ip6tables);
  const restoreTool = (family: Family) =>
    family === "ipv4" ? bin.iptablesRestore : bin.ip6tablesRestore;

  const noteWarnings = (r: ExecResult) => {
    if (LEGACY_TABLES_WARNING.test(r.stderr) && !warnings.has("legacy-tables")) {
      warnings.add("legacy-tables");
      log.warn(
        "iptables-legacy tables are present next to nf_tables ones: two backends manage this node",
      );
    }
  };

  /** A "missing" answer is only believed when POSTROUTING does not jump to the chain and nft agrees. */
  async function confirmMissing(
    family: Family,
    postrouting: string[],
    message: string,
    ambiguous: boolean,
  ) {
    if (jumpsTo(postrouting, chain))
      return `${chain} is referenced from POSTROUTING but iptables cannot list it: ${message}`;
    if (!ambiguous) return undefined;
    const r = await run([bin.nft, "list", "chain", family === "ipv4" ? "ip" : "ip6", "nat", chain]);
    if (r.code === 0)
      return `${chain} exists but holds rules iptables cannot show (inspect it with nft): ${message}`;
    return undefined;
  }

  async function readFamily(family: Family): Promise<FamilySnapshot> {
    const [c, p] = await Promise.all([
      run([tool(family), "-w", "-t", "nat", "-S", chain]),
      run([tool(family), "-w", "-t", "nat", "-S", "POSTROUTING"]),
    ]);
    noteWarnings(c);
    const post = classifyChainRead(p);
    if (post.kind !== "ok")
      return { family, chain: null, postrouting: [], readError: `POSTROUTING: ${post.message}` };
    const own = classifyChainRead(c);
    if (own.kind === "error")
      return {
        family,
        chain: null,
        postrouting: post.lines,
        readError: `${chain}: ${own.message}`,
      };
    if (own.kind === "missing") {
      const contradiction = await confirmMissing(family, post.lines, own.message, own.ambiguous);
      return {
        family,
        chain: null,
        postrouting: post.lines,
        ...(contradiction ? { readError: contradiction } : {}),
      };
    }
    return capped({ family, chain: own.lines, postrouting: post.lines });
  }

  const read = () => Promise.all(families.map(readFamily));

  async function restore(family: Family, payload: string): Promise<string | undefined> {
    const r = await run([restoreTool(family), "--noflush", "-w"], payload);
    return r.code === 0
      ? undefined
      : `${restoreTool(family)} failed: ${r.stderr.trim() || `exit ${r.code}`}`;
  }

  async function applyFamily(config: MasqConfig, flags: AgentFlags, before: FamilySnapshot) {
    const plan = planWrite(config, flags, before);
    if (!plan) return { written: false as const };
    const payload = renderApplyPayload(config, flags, before.family, plan);
    const error = await restore(before.family, payload);
    return error ? { written: false as const, error } : { written: true as const };
  }

  async function verifyOrRollback(
    config: MasqConfig,
    flags: AgentFlags,
    before: FamilySnapshot,
    after: FamilySnapshot,
  ) {
    const problems = verifyProblems(config, flags, after);
    if (problems.length === 0) return undefined;
    if (after.readError)
      return { error: `applied but not verified: ${after.readError}`, rolledBack: false };
    const failed = `${before.family} verification failed (${problems.join("; ")})`;
    const rbError = await restore(before.family, rollbackPayload(chain, before, after));
    log.error(
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

  async function applyNow(config: MasqConfig, trigger: ApplyTrigger): Promise<ApplyOutcome> {
    const t0 = performance.now();
    const done = (o: Omit<ApplyOutcome, "durationMs">): ApplyOutcome => ({
      ...o,
      durationMs: performance.now() - t0,
    });
    const flags = await effectiveFlags();
    const refused = refusal(config, flags);
    if (refused)
      return done({ ok: false, changed: false, rolledBack: false, error: refused, snapshots: [] });
    const before = await read();
    const unreadable = before.find((s) => s.readError);
    if (unreadable)
      return done({
        ok: false,
        changed: false,
        rolledBack: false,
        error: `cannot read current rules: ${unreadable.readError}`,
        snapshots: before,
      });
    const errors: string[] = [];
    const written: FamilySnapshot[] = [];
    for (const snap of before) {
      const r = await applyFamily(config, flags, snap);
      if (r.error) errors.push(r.error);
      if (r.written) written.push(snap);
    }
    let after = written.length > 0 ? await read() : before;
    let rolledBack = false;
    for (const prev of written) {
      const now = after.find((s) => s.family === prev.family)!;
      const v = await verifyOrRollback(config, flags, prev, now);
      if (v) errors.push(v.error);
      rolledBack ||= v?.rolledBack ?? false;
    }
    if (rolledBack) after = await read();
    log.info({ trigger, changed: written.length > 0, ok: errors.length === 0 }, "apply finished");
    const error = errors.length > 0 ? errors.join("; ") : undefined;
    return done({
      ok: !error,
      changed: written.length > 0,
      rolledBack,
      snapshots: after,
      ...(error ? { error } : {}),
    });
  }

  const apply = (config: MasqConfig, trigger: ApplyTrigger): Promise<ApplyOutcome> => {
    const next = lock.then(() => applyNow(config, trigger));
    lock = next.catch(() => {});
    return next;
  };

  function watch(onChange: (source: ChangeSource) => void): Watch {
    let inner: Watch | undefined;
    let closed = false;
    const pollIntervalMs = opts.pollIntervalMs ?? 10_000;
    info().then(
      (i) => {
        if (closed) return;
        const monitorArgv = i.monitor
          ? ["stdbuf", "-oL", bin.monitor, "-e", ...(families.length === 1 ? ["-4"] : [])]
          : null;
        inner = startWatcher({
          monitorArgv,
          netns: opts.netns,
          isRelevant: natEventFilter(chain, families),
          onChange,
          pollIntervalMs,
          logger: log,
        });
      },
      (e: Error) => {
        log.error({ err: e.message }, "cannot detect iptables; polling only");
        if (!closed)
          inner = startWatcher({
            monitorArgv: null,
            isRelevant: () => false,
            onChange,
            pollIntervalMs,
            logger: log,
          });
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

function capped(s: FamilySnapshot): FamilySnapshot {
  const chain = s.chain ?? [];
  if (chain.length <= MAX_SNAPSHOT_LINES && s.postrouting.length <= MAX_SNAPSHOT_LINES) return s;
  return {
    family: s.family,
    chain: chain.slice(0, MAX_SNAPSHOT_LINES),
    postrouting: s.postrouting.slice(0, MAX_SNAPSHOT_LINES),
    readError: `more than ${MAX_SNAPSHOT_LINES} rules; the snapshot is truncated`,
  };
}
