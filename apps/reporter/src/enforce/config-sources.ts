// Where a reporter's config comes from besides the dashboard: the state file (--state-dir: the
// last applied config, so a restarted reporter enforces it while the dashboard is away) and a
// mounted upstream ConfigMap file, or a directory of them merged as ip-masq-agent-v2 does
// (--config-file: adopted whenever its text changes). Both pass
// the same gate as the dashboard's configs; what they refuse is returned, never applied.
import { readFile, stat } from "node:fs/promises";
import { sha256 } from "@masq/node-util";
import { type AgentFlags, type MasqConfig, parseConfigText } from "@masq/shared";
import { refusal } from "../config-check.js";
import type { Logger } from "../log.js";
import {
  type ConfigSource,
  type PersistedState,
  STATE_VERSION,
  type StateStore,
} from "../state.js";
import { readConfigDir } from "./config-dir.js";

export interface DesiredConfig {
  config: MasqConfig;
  revision: number | null;
  resourceVersion: string | null;
  source: ConfigSource;
}

const sameConfig = (a: MasqConfig, b: MasqConfig) => JSON.stringify(a) === JSON.stringify(b);

export type SourceRead =
  | { kind: "none" }
  | { kind: "refused"; reason: string; source: ConfigSource; revision: number | null }
  | { kind: "config"; desired: DesiredConfig };

type MountedRead =
  | { ok: true; hash: string; config: MasqConfig }
  | { ok: false; hash: string; reason: string };

/**
 * A changed config is read again this long after (ms) and taken only if it reads the same: a
 * file written in place (truncated, then written) read between the two reads as empty, which
 * upstream takes as its defaults (every RFC 1918 block not masqueraded): a rule change on the
 * node for a file nobody meant. A ConfigMap mount (an atomic symlink swap) never reads so.
 */
export const SETTLE_MS = 200;
const settleDelay = () => new Promise<void>((r) => setTimeout(r, SETTLE_MS));
/** A config file read differently twice at every check for this long is said (a warning). */
export const UNSETTLED_WARN_MS = 30_000;

/**
 * The mounted config: one ConfigMap file as upstream reads it, or a directory of `ip-masq*`
 * files merged as ip-masq-agent-v2 merges them (config-dir.ts). Undefined when there is none;
 * throws when it cannot be read.
 */
async function readMounted(path: string, flags: AgentFlags): Promise<MountedRead | undefined> {
  if ((await stat(path)).isDirectory()) return readConfigDir(path, flags);
  const text = await readFile(path, "utf8");
  const hash = sha256(text);
  const parsed = parseConfigText(text, flags);
  if (parsed.ok) return { ok: true, hash, config: parsed.config };
  const reason = `config refused (${path}): ${parsed.errors.map((e) => e.message).join("; ")}`;
  return { ok: false, hash, reason };
}

export class ConfigSources {
  /** sha256 of the config file's text last seen (persisted, so only a new edit of it wins). */
  private fileHash: string | null = null;
  /** The state last written, without its time, so an unchanged config is not rewritten. */
  private persistedKey = "";
  /** The last config applied (loaded or persisted): what a seen but unadopted edit is kept with. */
  private applied: DesiredConfig | undefined;

  constructor(
    private readonly o: {
      store?: StateStore;
      configFile?: string;
      log: Logger;
      /** Waits between a changed config's two reads (default SETTLE_MS; tests write meanwhile). */
      settle?: () => Promise<void>;
      /** Epoch ms (tests); default Date.now. */
      now?: () => number;
    },
  ) {}

  /** Since when (epoch ms) every check of the file read it differently twice; said once. */
  private unsettled: { since: number; said: boolean } | undefined;

  /** One more check whose two reads differed: a warning once it has gone on UNSETTLED_WARN_MS. */
  private stillChanging(path: string): void {
    const now = this.o.now?.() ?? Date.now();
    this.unsettled ??= { since: now, said: false };
    const u = this.unsettled;
    if (u.said || now - u.since < UNSETTLED_WARN_MS) {
      this.o.log.info({ path }, "config file changing while read; read again at the next check");
      return;
    }
    u.said = true;
    const since = new Date(u.since).toISOString();
    this.o.log.warn(
      { path, since },
      `config file has kept changing since ${since} (never read the same ${SETTLE_MS} ms apart): not adopted, the node keeps enforcing its current config`,
    );
  }

  /** The persisted last applied config, if any and still valid under `flags`. */
  async loadState(flags: AgentFlags): Promise<SourceRead> {
    const { store, log } = this.o;
    if (!store) return { kind: "none" };
    const r = await store.load();
    if (!r.ok) {
      log.error({ path: store.path, reason: r.reason }, "ignoring an unreadable state file");
      return { kind: "none" };
    }
    const s = r.state;
    if (!s) return { kind: "none" };
    const reason = refusal(s.config, flags);
    if (reason)
      return {
        kind: "refused",
        reason: `persisted ${reason}`,
        source: s.source,
        revision: s.revision,
      };
    this.fileHash = s.fileHash;
    this.persistedKey = JSON.stringify({ ...s, appliedAt: 0 });
    this.applied = {
      config: s.config,
      revision: s.revision,
      resourceVersion: s.resourceVersion,
      source: s.source,
    };
    log.info({ revision: s.revision, source: s.source }, "loaded the last applied config");
    const { config, revision, resourceVersion, source } = s;
    return { kind: "config", desired: { config, revision, resourceVersion, source } };
  }

  /**
   * The mounted ConfigMap when its text changed since it was last seen and says something else
   * than `current`; "none" otherwise (the edit counts as seen: persisted with the last applied
   * config, so a restart does not adopt the file over `current`).
   */
  async readFile(flags: AgentFlags, current?: DesiredConfig): Promise<SourceRead> {
    const { configFile: path, log } = this.o;
    if (!path) return { kind: "none" };
    const readNow = () =>
      readMounted(path, flags).catch((e: Error) => {
        log.debug({ err: e.message, path }, "config file not readable");
        return undefined;
      });
    const read = await readNow();
    if (!read || read.hash === this.fileHash) {
      this.unsettled = undefined;
      return { kind: "none" };
    }
    await (this.o.settle ?? settleDelay)();
    if ((await readNow())?.hash !== read.hash) {
      this.stillChanging(path);
      return { kind: "none" };
    }
    this.unsettled = undefined;
    if (read.hash === this.fileHash) return { kind: "none" }; // a check beside this one took it
    this.fileHash = read.hash;
    if (!read.ok) return { kind: "refused", reason: read.reason, source: "file", revision: null };
    if (current && sameConfig(current.config, read.config)) {
      await this.markSeen();
      return { kind: "none" };
    }
    log.info({ path }, "config file changed; adopting it");
    const desired: DesiredConfig = {
      config: read.config,
      revision: null,
      resourceVersion: null,
      source: "file",
    };
    return { kind: "config", desired };
  }

  /**
   * The file's edit, just read, was not adopted (it says what `current` says, or lost to a
   * revision received while it was read): it counts as seen. The last applied config is
   * persisted again with the file's new hash, never a config that is not applied (its apply
   * may be running, or have failed: once applied it is persisted so), or a restart would adopt
   * the edit over `current`, or take an unapplied revision as applied.
   */
  async markSeen(): Promise<void> {
    if (this.applied) await this.write(this.applied);
  }

  /** Keeps `d`, just applied, as the last applied config (and the file's hash). */
  persist(d: DesiredConfig): Promise<void> {
    this.applied = d;
    return this.write(d);
  }

  /** Writes the state file; logs a failure. */
  private async write(d: DesiredConfig): Promise<void> {
    const { store, log } = this.o;
    if (!store) return;
    const state: PersistedState = {
      v: STATE_VERSION,
      ...d,
      appliedAt: Date.now(),
      fileHash: this.fileHash,
    };
    const key = JSON.stringify({ ...state, appliedAt: 0 });
    if (key === this.persistedKey) return;
    try {
      await store.save(state);
      this.persistedKey = key;
    } catch (e) {
      log.error(
        { err: (e as Error).message, path: store.path },
        "cannot persist the applied config",
      );
    }
  }
}
