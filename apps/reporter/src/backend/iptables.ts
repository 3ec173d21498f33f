// The real node. Reads, per family, the nat POSTROUTING path of every iptables backend that
// holds nat rules (detect.ts decides which one holds the node's rules, as iptables-wrappers
// does; family-read.ts reads the path, never the whole table). Writes only to that backend:
// one `iptables-restore --noflush -w` transaction per family, verified by reading back, the
// previous rules restored when the result differs. It never creates the agent chain in one
// backend while the other holds it, and reports the chain in both as a failed apply.
import { performance } from "node:perf_hooks";
import {
  type AgentFlags,
  type ApplyTrigger,
  type Family,
  type FamilySnapshot,
  familiesFor,
  type IptablesBackend,
  type MasqConfig,
} from "@masq/shared";
import { exec } from "../exec.js";
import { type Logger, silentLogger } from "../log.js";
import { natEventFilter, startWatcher } from "../watcher.js";
import { createDetector, type Detected, toolsOf } from "./detector.js";
import { readFamily } from "./family-read.js";
import type { Run } from "./list.js";
import type { ApplyOutcome, BackendInfo, ChangeSource, LinuxBackend, Watch } from "./types.js";
import { SNAPSHOT_TEXT_BYTES, type WalkBounds } from "./walk.js";
import { writeConfig } from "./write.js";

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

interface PathReaderOptions {
  families: readonly Family[];
  agentChain: string;
  nft: string;
  bounds?: Partial<WalkBounds>;
}

/**
 * Reads every family of every backend to read; remembers each one's chains (listed up front
 * next time) and which nf_tables chains are on a path (the events that matter).
 */
function createPathReader(run: Run, o: PathReaderOptions) {
  const lastNames = new Map<string, string[]>();
  const watched = new Set<string>();
  async function read(d: Detected): Promise<FamilySnapshot[]> {
    // All snapshots go in one message: each walk gets its share of the frame.
    const count = o.families.reduce((n, f) => n + d.choice.read[f].length, 0);
    const bounds = { maxTotalBytes: Math.floor(SNAPSHOT_TEXT_BYTES / count), ...o.bounds };
    const jobs = o.families.flatMap((family) =>
      d.choice.read[family].map(async (backend) => {
        const key = `${family}|${backend}`;
        const snap = await readFamily({
          run,
          family,
          backend,
          tools: toolsOf(d, backend, family),
          agentChain: o.agentChain,
          nft: o.nft,
          prefetch: lastNames.get(key),
          bounds,
        });
        lastNames.set(
          key,
          snap.chains.map((c) => c.name),
        );
        return snap;
      }),
    );
    const snaps = await Promise.all(jobs);
    watched.clear();
    for (const s of snaps)
      if (s.backend === "nf_tables") for (const c of s.chains) watched.add(c.name);
    return snaps;
  }
  return { read, watched: watched as ReadonlySet<string> };
}

interface WatchOptions {
  info: () => Promise<BackendInfo>;
  families: readonly Family[];
  agentChain: string;
  watched: ReadonlySet<string>;
  monitor: string;
  netns?: string;
  pollIntervalMs: number;
  log: Logger;
}

/** xtables-monitor when the written backend is nf_tables (else polling only), plus the poll. */
function watchNode(o: WatchOptions, onChange: (source: ChangeSource) => void): Watch {
  let inner: Watch | undefined;
  let closed = false;
  const start = (monitor: boolean) => {
    if (closed) return;
    const monitorArgv = monitor
      ? ["stdbuf", "-oL", o.monitor, "-e", ...(o.families.length === 1 ? ["-4"] : [])]
      : null;
    inner = startWatcher({
      monitorArgv,
      netns: o.netns,
      isRelevant: natEventFilter(o.watched, o.agentChain, o.families),
      onChange,
      pollIntervalMs: o.pollIntervalMs,
      logger: o.log,
    });
  };
  o.info().then(
    (i) => start(i.monitor),
    (e: Error) => {
      o.log.error({ err: e.message }, "cannot detect iptables; polling only");
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

/** One transaction into the written backend (or the restore a test put in its place). */
async function restore(
  run: Run,
  bin: Partial<IptablesBinaries>,
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

export function createIptablesBackend(opts: IptablesBackendOptions): LinuxBackend {
  const log = opts.logger ?? silentLogger();
  const families = familiesFor(opts.flags);
  const chain = opts.flags.masqChain;
  const bin = { monitor: "xtables-monitor", nft: "nft", ...opts.binaries };
  const run: Run = async (argv, input) => {
    const r = await exec(argv, { netns: opts.netns, timeoutMs: opts.timeoutMs, input });
    detector.note(r);
    return r;
  };
  const detector = createDetector(run, {
    families,
    agentChain: chain,
    forced: FORCED[opts.variant ?? "auto"],
    monitor: opts.monitor !== false,
    intervalMs: opts.detectIntervalMs,
    log,
  });
  const paths = createPathReader(run, {
    families,
    agentChain: chain,
    nft: bin.nft,
    bounds: opts.walkBounds,
  });
  const info = async (): Promise<BackendInfo> => ({ ...(await detector.current()).info });
  const effectiveFlags = async (): Promise<AgentFlags> => {
    const i = await info();
    return { ...opts.flags, randomFully: opts.flags.randomFully && i.randomFullySupported };
  };

  const write = async (d: Detected, config: MasqConfig, trigger: ApplyTrigger) =>
    writeConfig(
      {
        primary: d.choice.primary,
        reason: d.choice.reason,
        chain,
        restore: (family, payload) => restore(run, bin, d, family, payload),
        read: () => paths.read(d),
        log,
      },
      config,
      await effectiveFlags(),
      trigger,
    );

  let lock: Promise<unknown> = Promise.resolve();
  const apply = (config: MasqConfig, trigger: ApplyTrigger): Promise<ApplyOutcome> => {
    const next = lock.then(async () => {
      const t0 = performance.now();
      const d = await detector.current();
      let o = await write(d, config, trigger);
      // The rules that made the other backend "the node's" may be gone (detection runs every
      // 5 min): look again, once per refused apply, and write if the node's backend changed.
      if (o.wrongBackend) {
        detector.refresh();
        const again = await detector.current();
        if (again.choice.primary !== d.choice.primary) o = await write(again, config, trigger);
      }
      const { wrongBackend: _, ...outcome } = o;
      return { ...outcome, durationMs: performance.now() - t0 };
    });
    lock = next.catch(() => {});
    return next;
  };

  const watchOptions: WatchOptions = {
    info,
    families,
    agentChain: chain,
    watched: paths.watched,
    monitor: bin.monitor,
    netns: opts.netns,
    pollIntervalMs: opts.pollIntervalMs ?? 10_000,
    log,
  };
  return {
    info,
    effectiveFlags,
    read: async () => paths.read(await detector.current()),
    apply,
    watch: (onChange) => watchNode(watchOptions, onChange),
  };
}
