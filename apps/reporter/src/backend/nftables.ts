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
import { startWatcher } from "../watcher.js";
import { BACKEND_SUFFIX, familyTools } from "./detect.js";
import { createIptablesBackend, type IptablesVariant } from "./iptables.js";
import { createNft, type NftRun } from "./nft-exec.js";
import { type NftWatched, nftEventFilter, parseNftMonitorLine } from "./nft-monitor.js";
import { readNftNode } from "./nft-read.js";
import { writeNft } from "./nft-write.js";
import type { BackendInfo, LinuxBackend, NftablesBackend, NftObserved, Watch } from "./types.js";

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
const AGENT_TABLES = new Set([`${NFT_TABLE_FAMILY} ${NFT_TABLE}`]);

export function createNftablesBackend(opts: NftablesBackendOptions): NftablesBackend {
  const log = opts.logger ?? silentLogger();
  const bins = { nft: "nft", iptables: "iptables", ...opts.binaries };
  const run: NftRun = (argv, input, maxOutputBytes) =>
    exec(argv, { netns: opts.netns, timeoutMs: opts.timeoutMs, input, maxOutputBytes });
  const nft = createNft(run, bins.nft);
  let iptablesProbe: Promise<LinuxBackend | undefined> | undefined;
  /** The node's iptables side, when an iptables program runs (probed once). */
  const iptables = () => {
    iptablesProbe ??= run([bins.iptables, "--version"]).then((r) =>
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
    return iptablesProbe;
  };
  let watched: NftWatched = { tables: new Set(), objects: new Set() };

  async function readIptables(): Promise<FamilySnapshot[]> {
    const ipt = await iptables();
    if (!ipt) return [];
    try {
      return await ipt.read();
    } catch (e) {
      log.warn({ err: (e as Error).message }, "iptables side not read");
      return [];
    }
  }

  async function read(): Promise<NftObserved> {
    const ipt = await iptables();
    const [r, linux] = await Promise.all([
      readNftNode({
        nft,
        agent: { family: NFT_TABLE_FAMILY, table: NFT_TABLE },
        skipTables: new Set(ipt ? IPTABLES_NFT_TABLES : []),
      }),
      readIptables(),
    ]);
    watched = r.watched;
    return { nftables: r.snapshot, linux };
  }

  const info = async (): Promise<BackendInfo> => {
    const ipt = await iptables();
    const ii = ipt ? await ipt.info().catch(() => undefined) : undefined;
    return {
      backend: "nftables",
      iptablesVersion: ii?.iptablesVersion ?? "",
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

  const watch = (onChange: Parameters<NftablesBackend["watch"]>[0]): Watch => {
    const relevant = nftEventFilter(
      () => watched,
      new Set([...AGENT_TABLES, ...IPTABLES_NFT_TABLES]),
    );
    return startWatcher({
      monitorArgv: opts.monitor === false ? null : ["stdbuf", "-oL", bins.nft, "monitor"],
      netns: opts.netns,
      parseLine: parseNftMonitorLine,
      isRelevant: relevant,
      onChange,
      pollIntervalMs: opts.pollIntervalMs ?? 10_000,
      logger: log,
    });
  };

  return {
    kind: "nftables",
    info,
    effectiveFlags: async () => opts.flags,
    read,
    apply,
    watch,
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
