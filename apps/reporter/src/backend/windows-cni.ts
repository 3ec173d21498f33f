// Windows nodes: the masquerade intent lives in the node's CNI config as the OutBoundNAT
// policy's ExceptionList (destinations in it keep the pod address). This backend reads that file
// with the shared parser, applies a config by rewriting only the list(s) (shared
// rewriteExceptionLists: every other byte kept), keeps the previous file as a backup, replaces
// the file atomically (temp file in the same directory, fsync, rename, directory fsync), verifies
// by reading back with the shared drift rules and restores the previous content on a mismatch.
// A file it cannot parse is never written. Plain Node fs, so the same code runs on Linux (tests)
// and in a Windows HostProcess pod (C:\etc\cni\net.d\...).
import { release } from "node:os";
import { performance } from "node:perf_hooks";
import { Mutex } from "@masq/node-util";
import {
  type AgentFlags,
  type ApplyTrigger,
  driftReport,
  type ExceptionListSnapshot,
  type MasqConfig,
  rewriteExceptionLists,
  type WindowsSnapshot,
  windowsDrift,
  windowsExceptionList,
} from "@masq/shared";
import { refusal } from "../config-check.js";
import { type Logger, silentLogger } from "../log.js";
import { applyLogFields } from "./apply-log.js";
import {
  type CniFileStat,
  type CniFs,
  cniSnapshot,
  errText,
  type Loaded,
  loadCniFile,
  nodeCniFs,
  replaceCniFile,
} from "./cni-file.js";
import { watchCniFile } from "./cni-watch.js";
import type {
  BackendInfo,
  ChangeSource,
  Watch,
  WindowsApplyOutcome,
  WindowsBackend,
} from "./types.js";

/** The previous content of the file before the last rewrite (overwritten at every rewrite). */
export const DEFAULT_BACKUP_SUFFIX = ".ipmasq-backup";
/** The content before the first rewrite this node ever saw (written once, never overwritten). */
export const ORIGINAL_SUFFIX = ".ipmasq-original";
/** Extensions the container runtime loads from the CNI config directory (libcni ConfFiles). */
export const CNI_CONFIG_EXTENSIONS = [".conf", ".conflist", ".json"] as const;

export interface WindowsCniBackendOptions {
  /** The CNI config file (`.conf` or `.conflist`), e.g. C:\etc\cni\net.d\10-flannel.conf. */
  path: string;
  flags: AgentFlags;
  logger?: Logger;
  /** Fallback poll of the file (default 10 s); fs.watch on its directory does the fast path. */
  pollIntervalMs?: number;
  /** Appended to the file name for the backup of the previous content (default .ipmasq-backup). */
  backupSuffix?: string;
  /** Keep `<file>.ipmasq-original`, the content before the first rewrite (default true). */
  keepOriginal?: boolean;
  /** File operations (tests). */
  fs?: Partial<CniFs>;
  /** Coalescing of watch events (defaults 15 ms quiet, 100 ms max). */
  debounceMs?: number;
  maxWaitMs?: number;
}

export interface WindowsCniBackend extends WindowsBackend {
  readonly path: string;
  /** Where the previous content is kept after a rewrite. */
  readonly backupPath: string;
  /** Where the content before the first rewrite is kept (null when not kept). */
  readonly originalPath: string | null;
  /** The plugin type of the last successful read ("flannel/win-overlay"), if any. */
  plugin(): string | undefined;
}

/** Why the lists are not what the config wants, or undefined when they are (drift in sync). */
export function verifyExceptionLists(
  config: MasqConfig,
  lists: readonly ExceptionListSnapshot[],
): string | undefined {
  const r = driftReport(windowsDrift(config, lists));
  return r.status === "in-sync" ? undefined : r.summary;
}

function checkSuffix(suffix: string): string {
  if (suffix === "" || /[\\/]/.test(suffix))
    throw new Error(`backup suffix "${suffix}" must be a non-empty file name suffix`);
  if (CNI_CONFIG_EXTENSIONS.some((ext) => suffix.toLowerCase().endsWith(ext)))
    throw new Error(
      `backup suffix "${suffix}" ends like a CNI config: the container runtime would load the backup`,
    );
  return suffix;
}

type Result = Omit<WindowsApplyOutcome, "durationMs">;
type LoadedFile = Extract<Loaded, { ok: true }>;

/** What one apply needs of its backend. */
interface ApplyContext {
  path: string;
  fs: CniFs;
  keepOriginal: boolean;
  load(): Promise<Loaded>;
  read(): Promise<WindowsSnapshot>;
  replace(target: string, data: Uint8Array, like: CniFileStat): Promise<void>;
}

/**
 * Keeps the original (once) and the backup, then writes `next` over the file unless someone
 * changed it meanwhile. Returns why it did not write, or undefined when it wrote.
 */
async function writeWithBackups(
  c: ApplyContext,
  before: LoadedFile,
  next: Uint8Array,
  backupPath: string,
): Promise<string | undefined> {
  try {
    const originalPath = before.target + ORIGINAL_SUFFIX;
    if (c.keepOriginal && !(await c.fs.exists(originalPath)))
      await c.replace(originalPath, before.bytes, before.stat);
    await c.replace(backupPath, before.bytes, before.stat);
    // Someone else's edit made while we worked wins; the next read or resync sees it.
    const now = await c.fs.readFile(before.target);
    if (!now.equals(before.bytes))
      return `${c.path} changed while applying; not written (the next resync retries)`;
    await c.replace(before.target, next, before.stat);
    return undefined;
  } catch (e) {
    return `writing ${c.path} failed: ${errText(e)}; the file is unchanged`;
  }
}

/** Reads the rewritten file back; restores `before` when its lists do not verify. */
async function verifyOrRestore(
  c: ApplyContext,
  config: MasqConfig,
  before: LoadedFile,
  backupPath: string,
): Promise<Result> {
  const after = await c.load();
  const problem = after.ok ? verifyExceptionLists(config, after.lists) : after.error;
  const base = { changed: true, backupPath };
  if (!problem)
    return { ...base, ok: true, rolledBack: false, snapshots: cniSnapshot(c.path, after) };
  const failed = `${c.path} verification failed (${problem})`;
  try {
    await c.replace(before.target, before.bytes, before.stat);
  } catch (e) {
    return {
      ...base,
      ok: false,
      rolledBack: false,
      error: `${failed}; restoring the previous file also failed: ${errText(e)} (it is kept at ${backupPath})`,
      snapshots: await c.read(),
    };
  }
  const error = `${failed}; previous file restored`;
  return { ...base, ok: false, rolledBack: true, error, snapshots: await c.read() };
}

/** An apply decided before writing: its outcome, or the file as read and the text to write. */
type Plan = { outcome: Result } | { before: LoadedFile; next: Uint8Array };

/**
 * What an apply writes: nothing when the config is refused, has no equivalent list, the file
 * cannot be read or rewritten, or already has the list (verified); else the rewritten text.
 */
async function planApply(c: ApplyContext, config: MasqConfig, flags: AgentFlags): Promise<Plan> {
  const fail = (error: string, snapshots: WindowsSnapshot | undefined): Plan => ({
    outcome: { ok: false, changed: false, rolledBack: false, error, snapshots },
  });
  const refused = refusal(config, flags);
  if (refused) return fail(refused, undefined);
  const equivalent = windowsExceptionList(config);
  if (!equivalent.ok) return fail(`${equivalent.reason}; the file was not touched`, undefined);
  const before = await c.load();
  const snapshots = cniSnapshot(c.path, before);
  if (!before.ok) return fail(`${before.error}; the file was not touched`, snapshots);
  const rewrite = rewriteExceptionLists(before.text, equivalent.list);
  if (!rewrite.ok)
    return fail(`cannot apply to ${c.path}: ${rewrite.error}; the file was not touched`, snapshots);
  if (rewrite.changed) return { before, next: Buffer.from(rewrite.text, "utf8") };
  const problem = verifyExceptionLists(config, before.lists);
  if (problem)
    return fail(`${c.path} has the desired list but does not verify: ${problem}`, snapshots);
  return { outcome: { ok: true, changed: false, rolledBack: false, snapshots } };
}

/** Writes a planned rewrite (backups first) and verifies it, restoring the file if it fails. */
async function writePlanned(
  c: ApplyContext,
  config: MasqConfig,
  plan: { before: LoadedFile; next: Uint8Array },
  backupPath: string,
): Promise<Result> {
  const refusedWrite = await writeWithBackups(c, plan.before, plan.next, backupPath);
  if (refusedWrite)
    return {
      ok: false,
      changed: false,
      rolledBack: false,
      error: refusedWrite,
      snapshots: await c.read(),
    };
  return verifyOrRestore(c, config, plan.before, backupPath);
}

export function createWindowsCniBackend(opts: WindowsCniBackendOptions): WindowsCniBackend {
  const path = opts.path;
  const fs: CniFs = { ...nodeCniFs, ...opts.fs };
  const log = opts.logger ?? silentLogger();
  const suffix = checkSuffix(opts.backupSuffix ?? DEFAULT_BACKUP_SUFFIX);
  const keepOriginal = opts.keepOriginal !== false;
  const flags = opts.flags;
  let plugin: string | undefined;
  const lock = new Mutex();

  async function load(): Promise<Loaded> {
    const l = await loadCniFile(path, fs);
    if (l.ok) plugin = l.plugin;
    return l;
  }
  const snapshotOf = (l: Loaded) => cniSnapshot(path, l);

  const read = async () => snapshotOf(await load());

  const ctx: ApplyContext = {
    path,
    fs,
    keepOriginal,
    load,
    read,
    replace: (target, data, like) => replaceCniFile({ fs, log }, target, data, like),
  };

  async function applyNow(config: MasqConfig, trigger: ApplyTrigger): Promise<WindowsApplyOutcome> {
    const t0 = performance.now();
    const plan = await planApply(ctx, config, flags);
    const o =
      "outcome" in plan
        ? plan.outcome
        : await writePlanned(ctx, config, plan, plan.before.target + suffix);
    const outcome = { ...o, durationMs: performance.now() - t0 };
    log[!outcome.ok ? "error" : outcome.changed ? "info" : "debug"](
      { ...applyLogFields(trigger, outcome), path },
      "CNI config apply finished",
    );
    return outcome;
  }

  const apply = (config: MasqConfig, trigger: ApplyTrigger): Promise<WindowsApplyOutcome> =>
    lock.run(() => applyNow(config, trigger));

  const watch = (onChange: (source: ChangeSource) => void): Watch =>
    watchCniFile({ ...opts, fs, log }, onChange);

  const info = async (): Promise<BackendInfo> => ({
    backend: "cni",
    iptablesVersion: "",
    randomFullySupported: false,
    kernel: release() || "unknown",
    monitor: true,
    warnings: [],
  });

  return {
    os: "windows",
    path,
    backupPath: path + suffix,
    originalPath: keepOriginal ? path + ORIGINAL_SUFFIX : null,
    plugin: () => plugin,
    info,
    effectiveFlags: async () => flags,
    read,
    apply,
    watch,
  };
}
