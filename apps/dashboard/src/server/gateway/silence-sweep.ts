// Which reporter connections the gateway drops as silent. A connection is silent when nothing
// (frame or heartbeat) was read from it for `limitMs`. But "read" is the dashboard's own loop:
// a sweep that runs late (the process was starved or blocked: a push to tens of thousands of
// nodes on a throttled pod) may find heartbeats still waiting unread in socket buffers, and
// dropping those nodes would turn a slow moment into a reconnect storm. Such a sweep judges
// only by what was read before the previous sweep: a connection silent for the limit before
// that sweep ran. A late sweep that judged nothing (break6) kept a dead reporter "connected"
// for as long as every sweep ran late — a loop lagging for minutes under the very load that
// moves reporters between replicas.

/** What one sweep decides. */
export interface SweepResult<K> {
  /**
   * This sweep ran more than twice its interval after the previous one: judged by the previous
   * sweep's time (silent for the limit before it), not by now.
   */
  late: boolean;
  silent: K[];
}

/**
 * The connections to drop at `now` (ms of a monotonic clock): those last heard before `now - limitMs`; when
 * this sweep runs late (more than 2 × `intervalMs` after `previousSweep`), those last heard
 * before `previousSweep - limitMs`, so heartbeats waiting unread since then spare theirs.
 */
export function sweepSilent<K>(
  now: number,
  previousSweep: number,
  intervalMs: number,
  limitMs: number,
  lastHeard: Iterable<[K, number]>,
): SweepResult<K> {
  const late = now - previousSweep > 2 * intervalMs;
  const before = (late ? previousSweep : now) - limitMs;
  const silent: K[] = [];
  for (const [k, at] of lastHeard) if (at < before) silent.push(k);
  return { late, silent };
}
