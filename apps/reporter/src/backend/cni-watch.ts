// The Windows backend's change detection: fs.watch on the CNI config's directory (editors and
// installers replace the file by renaming another onto it, which a watch on the file would
// lose), its symlink target's directory too, bursts coalesced, a watch that fails retried with
// backoff, and a periodic poll as the fallback.
import { basename, dirname } from "node:path";
import { retryDelay, setLongInterval } from "@masq/shared";
import type { Logger } from "../log.js";
import { coalescer, MONITOR_RESTART } from "../watcher.js";
import { type CniFs, type DirWatcher, errText } from "./cni-file.js";
import type { ChangeSource, Watch } from "./types.js";

export interface CniWatchOptions {
  path: string;
  fs: Pick<CniFs, "realpath" | "watchDir">;
  log: Logger;
  /** Fallback poll of the file (default 10 s; 0: none). */
  pollIntervalMs?: number;
  /** Coalescing of watch events (defaults 15 ms quiet, 100 ms max). */
  debounceMs?: number;
  maxWaitMs?: number;
}

export function watchCniFile(
  opts: CniWatchOptions,
  onChange: (source: ChangeSource) => void,
): Watch {
  const { path, fs, log } = opts;
  const pollIntervalMs = opts.pollIntervalMs ?? 10_000;
  const burst = coalescer(() => onChange("event"), opts.debounceMs ?? 15, opts.maxWaitMs ?? 100);
  // --poll-interval is a Go duration: any length (timers.ts).
  const poll =
    pollIntervalMs > 0 ? setLongInterval(() => onChange("poll"), pollIntervalMs) : undefined;
  const watchers = new Map<string, DirWatcher>();
  const timers = new Set<NodeJS.Timeout>();
  const names = new Set([basename(path)]);
  let closed = false;

  // Editors and installers replace the file by renaming another onto it, which a watch on the
  // file itself would lose: watch the directory and pick our name out.
  const follow = (dir: string, failures: number) => {
    if (closed) return;
    try {
      const w = fs.watchDir(dir, (filename) => {
        if (!filename || names.has(filename)) burst.poke();
      });
      w.on("error", (e) => {
        w.close();
        if (watchers.get(dir) === w) watchers.delete(dir);
        retry(dir, failures + 1, e);
      });
      watchers.set(dir, w);
      if (failures > 0) onChange("monitor-restart");
    } catch (e) {
      retry(dir, failures + 1, e);
    }
  };
  const retry = (dir: string, failures: number, e: unknown) => {
    if (closed) return;
    const delay = retryDelay(failures, MONITOR_RESTART);
    log.warn(
      { dir, err: errText(e), retryInMs: delay },
      "cannot watch the CNI config directory; polling",
    );
    const t = setTimeout(() => {
      timers.delete(t);
      follow(dir, failures);
    }, delay);
    timers.add(t);
  };

  follow(dirname(path), 0);
  // A symlinked file: also watch where it really lives.
  fs.realpath(path).then(
    (target) => {
      if (closed || target === path) return;
      names.add(basename(target));
      if (dirname(target) !== dirname(path)) follow(dirname(target), 0);
    },
    () => {},
  );
  return {
    close() {
      closed = true;
      burst.cancel();
      poll?.clear();
      for (const t of timers) clearTimeout(t);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
