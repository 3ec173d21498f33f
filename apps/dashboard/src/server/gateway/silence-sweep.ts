// Which reporter connections the gateway drops as silent. A connection is silent when nothing
// (frame or heartbeat) was read from it for `limitMs`. But "read" is the dashboard's own loop:
// a sweep that runs late (the process was starved or blocked: a push to tens of thousands of
// nodes on a throttled pod) may find heartbeats still waiting unread in socket buffers, and
// dropping those nodes would turn a slow moment into a reconnect storm. Such a sweep judges
// nothing; the next on-time one does (the reporter side does the same: link-liveness.ts).

/** What one sweep decides. */
export interface SweepResult<K> {
  /** This sweep ran more than twice its interval after the previous one: nothing judged. */
  late: boolean;
  silent: K[];
}

/**
 * The connections to drop at `now` (epoch ms): those last heard before `now - limitMs`, unless
 * this sweep runs late, i.e. more than 2 × `intervalMs` after `previousSweep`.
 */
export function sweepSilent<K>(
  now: number,
  previousSweep: number,
  intervalMs: number,
  limitMs: number,
  lastHeard: Iterable<[K, number]>,
): SweepResult<K> {
  if (now - previousSweep > 2 * intervalMs) return { late: true, silent: [] };
  const silent: K[] = [];
  for (const [k, at] of lastHeard) if (at < now - limitMs) silent.push(k);
  return { late: false, silent };
}
