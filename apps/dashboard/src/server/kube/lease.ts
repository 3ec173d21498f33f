// Leader election over a coordination.k8s.io Lease, as client-go's leaderelection does it. With
// several dashboard replicas only the holder reports ready, so the Service sends reporters and
// browsers to one replica and the fleet view is whole.
//
// Expiry is judged by this replica's own clock only: a Lease is expired when its record has
// not changed for leaseDurationSeconds since this replica last *observed* it change
// (client-go's observedTime), never by comparing the holder's renewTime with the local clock —
// clocks of different nodes disagree. Every such duration is on the monotonic clock, as Go's
// time.Since is in client-go: a wall clock stepped forward (NTP, a VM resumed) took a live
// holder's Lease (two leaders), one stepped back kept a holder leader while renewals failed.
// The holder steps down when it could not renew for
// renewDeadline (shorter than the lease duration), before anyone else may take over.
import { type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { type LongTimer, setLongTimeout } from "@masq/shared";
import type { Logger } from "pino";
import { apiMessage, type KubeClients, statusCode } from "./client.js";

export interface LeaseOptions {
  namespace: string;
  name: string;
  identity: string;
  /** leaseDurationSeconds written to the Lease (default 15, client-go's default). */
  durationSeconds?: number;
  /** How often to try to acquire or renew (default 2000 ms, client-go's RetryPeriod). */
  renewMs?: number;
  /** The holder is leader only while its last renewal is younger than this (default 10 s). */
  renewDeadlineMs?: number;
  /** The wall clock, only for the renewTime written (default Date.now; tests skew it). */
  clock?: () => number;
  /** The clock every duration is measured on (ms; default performance.now; tests step the wall). */
  monotonic?: () => number;
}

export interface LeaseStatus {
  leader: boolean;
  /** The holder this replica last observed. */
  holder?: string;
  /** What keeps this replica from electing at all (e.g. the Lease cannot be created). */
  problem?: string;
}

type LeaseSpec = NonNullable<V1Lease["spec"]>;

export class LeaseElector {
  /** The last record read and the local time it was first seen (client-go observedTime; monotonic). */
  private observed: { raw: string; spec: LeaseSpec; at: number } | undefined;
  private renewedAt: number | undefined;
  private timer: LongTimer | undefined;
  private stopped = false;
  private problem: string | undefined;
  private readonly duration: number;
  /** Monotonic ms: observedTime, renewedAt. */
  private readonly now: () => number;
  private readonly wall: () => number;

  constructor(
    private readonly clients: KubeClients,
    private readonly opts: LeaseOptions,
    private readonly log: Logger,
  ) {
    this.duration = opts.durationSeconds ?? 15;
    this.now = opts.monotonic ?? (() => performance.now());
    this.wall = opts.clock ?? Date.now;
  }

  isLeader(now = this.now()): boolean {
    return (
      this.renewedAt !== undefined && now - this.renewedAt < (this.opts.renewDeadlineMs ?? 10_000)
    );
  }

  status(): LeaseStatus {
    return {
      leader: this.isLeader(),
      ...(this.observed?.spec.holderIdentity ? { holder: this.observed.spec.holderIdentity } : {}),
      ...(this.problem ? { problem: this.problem } : {}),
    };
  }

  async start(): Promise<void> {
    await this.tick();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.timer?.clear();
    if (!this.isLeader()) return;
    // Hand over at once instead of making the standby wait for the lease to expire.
    this.renewedAt = undefined;
    await this.update((l) => ({
      ...l,
      spec: { ...l.spec, holderIdentity: undefined, renewTime: undefined, acquireTime: undefined },
    })).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    const was = this.isLeader();
    try {
      await this.tryAcquireOrRenew();
    } catch (e) {
      this.problem = `Lease ${this.opts.namespace}/${this.opts.name}: ${apiMessage(e)}`;
      this.log.warn({ err: e }, "lease update failed");
    }
    const is = this.isLeader();
    if (is && !was) this.log.info({ identity: this.opts.identity }, "became the active replica");
    if (was && !is)
      this.log.warn({ identity: this.opts.identity }, "lost the lease; now a standby replica");
    if (!this.stopped) {
      this.timer = setLongTimeout(() => void this.tick(), this.opts.renewMs ?? 2000).unref();
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { coordination } = this.clients;
    const { namespace, name, identity } = this.opts;
    let current: V1Lease | undefined;
    try {
      current = await coordination.readNamespacedLease({ namespace, name });
    } catch (e) {
      if (statusCode(e) !== 404) throw e;
    }
    const now = this.now();
    if (current) this.observe(current.spec ?? {}, now);
    const last = this.observed?.spec;
    // A record another replica renewed within its duration (by our clock) is not ours to take;
    // nor is a Lease that just disappeared while someone else held it.
    const held = last?.holderIdentity && last.holderIdentity !== identity;
    const fresh =
      this.observed &&
      now < this.observed.at + (last?.leaseDurationSeconds ?? this.duration) * 1000;
    if (held && fresh) return;
    const spec = this.record(current?.spec ?? {}, this.wall());
    try {
      if (current)
        await coordination.replaceNamespacedLease({ namespace, name, body: { ...current, spec } });
      else
        await coordination.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec },
        });
    } catch (e) {
      if (statusCode(e) === 409) return; // another replica wrote first
      if (!current && statusCode(e) === 403)
        this.problem = `the Lease ${namespace}/${name} does not exist and this replica may not create it (${apiMessage(e)})`;
      throw e;
    }
    this.problem = undefined;
    this.observe(spec, now);
    this.renewedAt = now;
  }

  /** Our record: a renewal keeps acquireTime, a takeover counts a transition. */
  private record(prev: LeaseSpec, nowMs: number): LeaseSpec {
    // MicroTime: the API server wants 6 fractional digits, which plain Dates do not print.
    const now = new V1MicroTime(nowMs);
    const mine = prev.holderIdentity === this.opts.identity;
    return {
      ...prev,
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.duration,
      renewTime: now,
      acquireTime: mine && prev.acquireTime ? new V1MicroTime(prev.acquireTime) : now,
      leaseTransitions: (prev.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
  }

  private observe(spec: LeaseSpec, now: number): void {
    const raw = JSON.stringify([
      spec.holderIdentity,
      spec.leaseDurationSeconds,
      spec.acquireTime ? new Date(spec.acquireTime).getTime() : null,
      spec.renewTime ? new Date(spec.renewTime).getTime() : null,
      spec.leaseTransitions,
    ]);
    if (this.observed?.raw !== raw) this.observed = { raw, spec, at: now };
  }

  /** Read-modify-write of the Lease (used to release it). */
  private async update(change: (l: V1Lease) => V1Lease): Promise<void> {
    const { coordination } = this.clients;
    const { namespace, name } = this.opts;
    const current = await coordination.readNamespacedLease({ namespace, name });
    await coordination.replaceNamespacedLease({ namespace, name, body: change(current) });
  }
}
