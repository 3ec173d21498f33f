// Which applies heal drift: an apply on its own (periodic resync, heal, a resync asked) of the
// config already applied in this process that changed the rules — an apply writes only what
// differs, so they had drifted. Never a first apply, a new config, nor one at start (a reboot
// empties the tables). Told so the agent can keep those no dashboard heard (unheard-heals.ts).
import type { ApplyTrigger } from "@masq/shared";
import type { DesiredConfig } from "./config-sources.js";

/** A heal of drift: when (ms, this clock), the revision written back, what its last read showed. */
export interface Heal {
  at: number;
  revision: number | null;
  what: string | null;
}

const HEALING: ReadonlySet<ApplyTrigger> = new Set(["periodic", "heal", "resync"]);

export class HealSpotter {
  /** The config last applied successfully here. */
  private lastApplied: DesiredConfig | undefined;

  /** @param summary what differs by the last read judged (null: in sync, or none judged) */
  constructor(
    private readonly onHeal: ((heal: Heal) => void) | undefined,
    private readonly summary: () => string | null,
  ) {}

  /**
   * Before an apply of `d`: what to call once it succeeded. What differed is taken now: the
   * apply's own write wakes the watcher, whose read (in sync) may be judged before it returns.
   */
  before(d: DesiredConfig, trigger: ApplyTrigger): (changed: boolean) => void {
    const again = this.lastApplied === d && HEALING.has(trigger);
    const what = again ? this.summary() : null;
    return (changed) => {
      this.lastApplied = d;
      if (again && changed) this.onHeal?.({ at: Date.now(), revision: d.revision, what });
    };
  }
}
