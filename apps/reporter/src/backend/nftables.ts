// The native nftables backend (`--backend nftables`): the agent's own `inet` table, written in
// one `nft -f` transaction (nft-write.ts), read with the nat postrouting path of every other
// table (nft-read.ts), changes followed with `nft monitor` plus a fallback poll. When iptables
// is installed its side of the node is read too (the agent's chain may still be there, and
// iptables-nft's `ip nat`/`ip6 nat` tables are read as iptables), and the apply retires the
// agent's iptables chain once the table is verified (migration, adoption of upstream's chain).
import { release } from "node:os";
import { performance } from "node:perf_hooks";
import {
  type AgentFlags,
  type ApplyTrigger,
  type FamilySnapshot,
  type MasqConfig,
  NFT_TABLE,
  NFT_TABLE_FAMILY,
} from "@masq/shared";
import { exec, programMissing } from "../exec.js";
import { type Logger, silentLogger } from "../log.js";
import { type MonitorEvent, startWatcher } from "../watcher.js";
import { BACKEND_SUFFIX, familyTools } from "./detect.js";
import { createIptablesBackend, type IptablesVariant } from "./iptables.js";
import { createNft, type Nft, type NftRun } from "./nft-exec.js";
import { type NftWatched, nftEventFilter, parseNftMonitorLine } from "./nft-monitor.js";
import {
  hasEventlessSet,
  type OwnTableCache,
  ownTableCache,
  readOwnTable,
} from "./nft-own-cache.js";
import { type ChainInfo, type NftRead, readNftNode, type TableWalk } from "./nft-read.js";
import { writeNft } from "./nft-write.js";
import type {
  BackendInfo,
  ChangeSource,
  LinuxBackend,
  NftablesBackend,
  NftObserved,
  Watch,
} from "./types.js";

export interface NftablesBackendOptions {
  netns?: string;
  flags: AgentFlags;
  logger?: Logger;
  /** Fallback poll (default 10 s). */
  pollIntervalMs?: number;
  /** Follow `nft monitor` (default true). */
  monitor?: boolean;
  timeoutMs?: number;
  /** Programs (tests put failing ones in place). */
  binaries?: { nft?: string; iptables?: string };
  /** Why this backend (from `--backend`), for BackendInfo. */
  reason?: string;
  /** How the node's iptables side is read and written (`--iptables`). */
  iptablesVariant?: IptablesVariant;
}

/** iptables-nft's tables: read as iptables snapshots when iptables runs here. */
const IPTABLES_NFT_TABLES = ["ip nat", "ip6 nat"];
const AGENT = { family: NFT_TABLE_FAMILY, table: NFT_TABLE };
const AGENT_TABLES = new Set([`${NFT_TABLE_FAMILY} ${NFT_TABLE}`]);
/** The `touched` mark of an event on iptables-nft's tables. */
const IPTABLES_SIDE = "iptables";

export function createNftablesBackend(opts: NftablesBackendOptions): NftablesBackend {
  const log = opts.logger ?? silentLogger();
  const bins = { nft: "nft", iptables: "iptables", ...opts.binaries };
  const run: NftRun = (argv, input, maxOutputBytes) =>
    exec(argv, { netns: opts.netns, timeoutMs: opts.timeoutMs, input, maxOutputBytes });
  const nft = createNft(run, bins.nft);

  const side = iptablesSide(opts, run, log, bins.iptables);
  const iptables = side.backend;
  const readIptables = side.read;
  let watched: NftWatched = { tables: new Set(), objects: new Set() };
  const own = ownTableCache();
  const walks = walkCache(own);

  async function read(): Promise<NftObserved> {
    const ipt = await iptables();
    const touched = walks.begin();
    const ownToken = own.begin();
    const known = walks.usableIptables();
    let ownListing: unknown[] | undefined;
    const readAgent = async () => {
      const r = await readOwnTable(nft, AGENT, ownToken);
      if (r.kind === "ok") ownListing = r.objects;
      return r;
    };
    const [r, linux] = await Promise.all([
      readNftNode({
        nft,
        agent: AGENT,
        skipTables: new Set(ipt ? IPTABLES_NFT_TABLES : []),
        readAgent,
        ...walks.usable(),
      }),
      known ?? readIptables(),
    ]);
    watched = r.watched;
    walks.store(touched, r, linux);
    own.store(ownToken, r.snapshot.readError === undefined ? ownListing : undefined);
    return { nftables: r.snapshot, linux };
  }

  let version: Promise<string> | undefined;
  /** "nftables v1.0.6" as `nft --version` says (the hello's version field: what writes the rules). */
  const nftVersion = () => {
    version ??= run([bins.nft, "--version"]).then(
      (r) => /^nftables v[\d.]+/.exec(r.stdout.trim())?.[0] ?? "",
    );
    return version;
  };
  const info = async (): Promise<BackendInfo> => {
    const ipt = await iptables();
    const ii = ipt ? await ipt.info().catch(() => undefined) : undefined;
    return {
      backend: "nftables",
      iptablesVersion: await nftVersion(),
      randomFullySupported: true,
      kernel: release(),
      monitor: opts.monitor !== false,
      warnings: [],
      ...(ii?.ruleBackends ? { ruleBackends: ii.ruleBackends } : {}),
      backendReason: opts.reason ?? "--backend nftables",
    };
  };

  let lock: Promise<unknown> = Promise.resolve();
  const apply = (config: MasqConfig, trigger: ApplyTrigger) => {
    const next = lock.then(async () => {
      const t0 = performance.now();
      const ipt = await iptables();
      const o = await writeNft(
        {
          nft,
          read,
          log,
          ...(ipt ? { iptables: iptablesWriter(ipt, run) } : {}),
        },
        config,
        opts.flags,
        trigger,
      );
      return { ...o, durationMs: performance.now() - t0 };
    });
    lock = next.catch(() => {});
    return next;
  };

  const recheck = pathRecheck(backgroundNft(opts, bins.nft), iptables, walks);
  const watch = (onChange: Parameters<NftablesBackend["watch"]>[0]): Watch =>
    watchNft(opts, bins.nft, { walks, recheck }, () => watched, onChange, log);

  return {
    kind: "nftables",
    info,
    effectiveFlags: async () => opts.flags,
    read,
    apply,
    watch,
  };
}

/** The node's iptables side, when an iptables program runs (probed once): its backend and read. */
function iptablesSide(opts: NftablesBackendOptions, run: NftRun, log: Logger, program: string) {
  let probe: Promise<LinuxBackend | undefined> | undefined;
  const backend = () => {
    probe ??= run([program, "--version"]).then((r) =>
      programMissing(r)
        ? undefined
        : createIptablesBackend({
            netns: opts.netns,
            flags: opts.flags,
            logger: log,
            monitor: false,
            variant: opts.iptablesVariant,
            timeoutMs: opts.timeoutMs,
          }),
    );
    return probe;
  };
  async function read(): Promise<FamilySnapshot[]> {
    const ipt = await backend();
    if (!ipt) return [];
    try {
      return await ipt.read();
    } catch (e) {
      log.warn({ err: (e as Error).message }, "iptables side not read");
      return [];
    }
  }
  return { backend, read };
}

/** nft for the poll's recheck: background work, below the event reads' priority. */
function backgroundNft(opts: NftablesBackendOptions, program: string): Nft {
  const { netns, timeoutMs } = opts;
  return createNft(
    (argv, input, maxOutputBytes) =>
      exec(argv, { netns, timeoutMs, input, maxOutputBytes, nice: 10 }),
    program,
  );
}

/**
 * The poll while nft monitor follows: other tables' nat postrouting paths walked again (no
 * reuse) beside the reads, so that no event's read waits behind a walk of a big table
 * (~1.5 CPU-s for kube-proxy's with 5,000 services). The returned call resolves true when it
 * ran (one at a time).
 */
function pathRecheck(
  nft: Nft,
  iptables: () => Promise<LinuxBackend | undefined>,
  walks: ReturnType<typeof walkCache>,
): () => Promise<boolean> {
  let rechecking = false;
  return async () => {
    if (rechecking) return false;
    rechecking = true;
    try {
      const ipt = await iptables();
      const touched = walks.begin();
      const r = await readNftNode({
        nft,
        agent: AGENT,
        skipTables: new Set(ipt ? IPTABLES_NFT_TABLES : []),
        readAgent: async () => ({ kind: "ok", objects: [] }),
      });
      walks.storeWalks(touched, r, true);
      // Reads that ran beside it reused the older walks: they must not put them back.
      walks.supersede();
      return true;
    } finally {
      rechecking = false;
    }
  };
}

/** `nft monitor` (+ the poll) for the backend; events drop the cached walks they touch. */
function watchNft(
  opts: NftablesBackendOptions,
  nft: string,
  cache: { walks: ReturnType<typeof walkCache>; recheck: () => Promise<boolean> },
  watched: () => NftWatched,
  onChange: (source: ChangeSource) => void,
  log: Logger,
): Watch {
  const relevant = nftEventFilter(watched, new Set([...AGENT_TABLES, ...IPTABLES_NFT_TABLES]));
  const monitored = opts.monitor !== false;
  const { walks } = cache;
  const poll = () => {
    if (!walks.following()) {
      walks.clear(false);
      return onChange("poll");
    }
    // While following, the agent's table and the iptables side are read whole by the read
    // after the recheck, which walks the other tables again without holding up event reads.
    walks.revalidate();
    void cache.recheck().then(
      (ran) => ran && onChange("poll"),
      (e: Error) => {
        log.warn({ err: e.message }, "poll recheck failed; reading everything");
        walks.clear(walks.following());
        onChange("poll");
      },
    );
  };
  const w = startWatcher({
    monitorArgv: monitored ? ["stdbuf", "-oL", nft, "monitor"] : null,
    netns: opts.netns,
    parseLine: parseNftMonitorLine,
    isRelevant: (ev) => walks.note(ev, relevant(ev)),
    onChange: (source) => {
      // A poll or a (re)started monitor may follow missed events: read everything again, and
      // keep what that read finds while the monitor follows.
      if (source === "poll") return poll();
      if (source === "monitor-restart") walks.clear(monitored);
      onChange(source);
    },
    // Until the restarted monitor settles, events may be missed: nothing is reused.
    onMonitorExit: () => walks.clear(false),
    pollIntervalMs: opts.pollIntervalMs ?? 10_000,
    logger: log,
  });
  return {
    close() {
      walks.clear(false);
      w.close();
    },
  };
}

/** The iptables writer the migration uses: the iptables backend's apply, and chain removal. */
function iptablesWriter(ipt: LinuxBackend, run: NftRun) {
  return {
    apply: (config: MasqConfig) => ipt.apply(config, "cli"),
    async restore(snap: FamilySnapshot, payload: string) {
      const tool = familyTools(BACKEND_SUFFIX[snap.backend], snap.family).restore;
      const r = await run([tool, "--noflush", "-w"], payload);
      return r.code === 0 ? undefined : `${tool} failed: ${r.stderr.trim() || `exit ${r.code}`}`;
    },
  };
}

/**
 * Foreign tables' walks kept between reads while `nft monitor` follows the node. An event on an
 * object a walk read (or a new nat postrouting chain, or a table event) drops that walk (all
 * walks); a read stores only the walks no event touched while it ran. Without a running monitor
 * nothing is reused. Between a monitor's exit and its restart events can be missed: the
 * restart's read is a full one, and so is every poll.
 */
function walkCache(own: OwnTableCache) {
  let walks = new Map<string, TableWalk>();
  let hooks: Map<string, ChainInfo[]> | undefined;
  /** The iptables side, kept only when all of it is iptables-nft (nft monitor sees its changes). */
  let iptables: FamilySnapshot[] | undefined;
  let following = false;
  /** Per read in progress: tables touched since it started ("*": all). */
  const pending = new Set<Set<string>>();
  const touch = (table: string) => {
    for (const p of pending) p.add(table);
  };
  /** An event on `table`'s object `name`: its walk goes when it read that object (or none). */
  const dropWalk = (table: string, name: string | undefined) => {
    const w = walks.get(table);
    if (w && !w.watched.includes(`${table} ${name}`)) return;
    walks.delete(table);
    touch(table);
  };
  return {
    begin(): Set<string> {
      const touched = new Set<string>();
      pending.add(touched);
      return touched;
    },
    /** What a read may reuse: other tables' hooks and unchanged walks (none unless following). */
    usable: () => (following ? { reuse: walks, ...(hooks ? { hooks } : {}) } : {}),
    usableIptables: () => (following ? iptables : undefined),
    following: () => following,
    store(touched: Set<string>, r: NftRead, linux: FamilySnapshot[]) {
      if (following && !touched.has("*")) {
        const visible = linux.every((l) => l.backend === "nf_tables" && !l.readError);
        iptables = visible && !touched.has(IPTABLES_SIDE) ? linux : undefined;
      }
      this.storeWalks(touched, r);
    },
    /**
     * Keeps a read's walks that no event touched while it ran; `merge`: in place of the cached
     * ones, which stay where it could not walk a table (the monitor still vouches for them).
     */
    storeWalks(touched: Set<string>, r: NftRead, merge = false) {
      pending.delete(touched);
      if (!following || touched.has("*") || r.snapshot.readError) return;
      // A walk holding a set whose elements time out or come from the packet path changes
      // with no event: walked again every read.
      const fresh = [...r.walks].filter(([k]) => !touched.has(k));
      const failed = (w: TableWalk) => w.error !== undefined || w.unread.length > 0;
      const keep = fresh.filter(([, w]) => !failed(w) && !hasEventlessSet(w.objects));
      const notWalked = new Set(fresh.filter(([, w]) => failed(w)).map(([k]) => k));
      const cached = merge ? [...walks].filter(([k]) => notWalked.has(k)) : [];
      walks = new Map([...cached, ...keep]);
      hooks = r.hooks;
    },
    /** Reads in progress keep none of their walks. */
    supersede: () => touch("*"),
    /** The next read lists the agent's table and the iptables side whole (a poll). */
    revalidate() {
      own.clear(following);
      iptables = undefined;
      touch(IPTABLES_SIDE);
    },
    /** Drops what the event touches; returns `relevant` for the watcher. */
    note(ev: MonitorEvent, relevant: boolean): boolean {
      const table = ev.table ?? "";
      if (IPTABLES_NFT_TABLES.includes(table)) {
        iptables = undefined;
        touch(IPTABLES_SIDE);
      }
      // The agent's own table (every apply re-declares its base chain): its own cache.
      if (AGENT_TABLES.has(table)) own.note(ev);
      else if (ev.kind === "lost" || this.reshapes(ev)) this.clear(following);
      else if (ev.kind === "rule" || ev.kind === "chain") dropWalk(table, ev.chain);
      return relevant;
    },
    /** A table, a nat postrouting chain or one of the hooks read comes or goes: read all again. */
    reshapes(ev: MonitorEvent): boolean {
      const hook =
        ev.kind === "chain" && hooks?.get(ev.table ?? "")?.some((c) => c.name === ev.chain);
      return ev.kind === "table" || ev.natPostrouting === true || hook === true;
    },
    clear(follow: boolean) {
      own.clear(follow);
      walks.clear();
      hooks = undefined;
      iptables = undefined;
      touch("*");
      following = follow;
    },
  };
}
