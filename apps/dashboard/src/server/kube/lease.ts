// Leader election over a coordination.k8s.io Lease. With several dashboard replicas only the
// holder reports ready, so the Service sends reporters and browsers to one replica and the
// fleet view is whole; a standby takes over when the holder stops renewing.
import { type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { type LongTimer, setLongTimeout } from "@masq/shared";
import type { Logger } from "pino";
import { type KubeClients, statusCode } from "./client.js";

export interface LeaseOptions {
  namespace: string;
  name: string;
  identity: string;
  durationSeconds?: number;
  renewMs?: number;
}

export class LeaseElector {
  private leaderUntil = 0;
  private timer: LongTimer | undefined;
  private stopped = false;
  private readonly duration: number;

  constructor(
    private readonly clients: KubeClients,
    private readonly opts: LeaseOptions,
    private readonly log: Logger,
  ) {
    this.duration = opts.durationSeconds ?? 15;
  }

  isLeader(now = Date.now()): boolean {
    return now < this.leaderUntil;
  }

  async start(): Promise<void> {
    await this.tick();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.timer?.clear();
    if (!this.isLeader()) return;
    // Hand over at once instead of making the standby wait for the lease to expire.
    await this.write((l) => ({
      ...l,
      spec: { ...l.spec, holderIdentity: undefined, renewTime: undefined, acquireTime: undefined },
    })).catch(() => undefined);
    this.leaderUntil = 0;
  }

  private async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch (e) {
      this.log.warn({ err: e }, "lease update failed");
    }
    if (!this.stopped) {
      this.timer = setLongTimeout(() => void this.tick(), this.opts.renewMs ?? 2000).unref();
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    // MicroTime: the API server wants 6 fractional digits, which plain Dates do not print.
    const now = new V1MicroTime();
    const mine = (l: V1Lease): V1Lease => ({
      ...l,
      spec: {
        ...l.spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: this.duration,
        renewTime: now,
        acquireTime:
          l.spec?.holderIdentity === this.opts.identity && l.spec.acquireTime
            ? new V1MicroTime(l.spec.acquireTime)
            : now,
        leaseTransitions:
          (l.spec?.leaseTransitions ?? 0) + (l.spec?.holderIdentity === this.opts.identity ? 0 : 1),
      },
    });
    const ok = await this.write((l) => {
      const holder = l.spec?.holderIdentity;
      const renewed = l.spec?.renewTime ? new Date(l.spec.renewTime).getTime() : 0;
      const expired =
        renewed + (l.spec?.leaseDurationSeconds ?? this.duration) * 1000 < now.getTime();
      return !holder || holder === this.opts.identity || expired ? mine(l) : undefined;
    });
    if (ok) {
      if (!this.isLeader())
        this.log.info({ identity: this.opts.identity }, "became the active replica");
      this.leaderUntil = now.getTime() + this.duration * 1000;
    } else if (this.isLeader()) {
      this.log.warn("lost the lease; now a standby replica");
      this.leaderUntil = 0;
    }
  }

  /** Read-modify-write with resourceVersion; false when `change` declines or another replica won. */
  private async write(change: (l: V1Lease) => V1Lease | undefined): Promise<boolean> {
    const { coordination } = this.clients;
    const { namespace, name } = this.opts;
    let current: V1Lease | undefined;
    try {
      current = await coordination.readNamespacedLease({ namespace, name });
    } catch (e) {
      if (statusCode(e) !== 404) throw e;
    }
    const next = change(current ?? { metadata: { name, namespace }, spec: {} });
    if (!next) return false;
    try {
      if (current) await coordination.replaceNamespacedLease({ namespace, name, body: next });
      else await coordination.createNamespacedLease({ namespace, body: next });
      return true;
    } catch (e) {
      if (statusCode(e) === 409) return false;
      throw e;
    }
  }
}
