"use client";
// When the node heals drift on its own, as its reporter told the dashboard (HealSchedule).
import type { ApplyResult, Difference, HealSchedule, NodeStatus } from "@masq/shared";
import { UntilTime } from "../components/Time";
import { formatDuration } from "../components/time";
import { healWording, resyncNote } from "./heal-notes";

/** "1 min", "90 s", "2 h": a resync interval as people write it. */
function every(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return formatDuration(ms);
}

function Periodic({
  heal,
  status,
  cannotHeal,
  ownOnly,
  lastApply,
}: {
  heal: Extract<HealSchedule, { kind: "periodic" }>;
  status: NodeStatus;
  /** The drifted node's every difference is one a resync does not rewrite. */
  cannotHeal: boolean;
  /** Some differences are not the agent's: a resync heals only its own rules. */
  ownOnly: boolean;
  lastApply: Pick<ApplyResult, "ok"> | null;
}) {
  const next =
    heal.nextResyncAt === null ? "now (re-applying)" : <UntilTime value={heal.nextResyncAt} />;
  const words = healWording(status, cannotHeal);
  if (words.heading !== "Next automatic heal")
    return (
      <>
        <p className="font-medium">
          {words.nothing ? `${words.nothing} ` : ""}
          {words.lead}, {next}.
        </p>
        <p className="text-zinc-600 dark:text-zinc-400">
          The reporter re-applies every {every(heal.intervalMs)}
          {heal.heal === "immediate" ? " and at once when it sees drift" : ""}; drift is reported at
          once{heal.heal === "immediate" || cannotHeal ? "" : " and healed at the next resync"}.
        </p>
      </>
    );
  if (heal.heal === "immediate")
    return (
      <>
        <p className="font-medium">At once: the reporter re-applies as soon as it sees drift.</p>
        <p className="text-zinc-600 dark:text-zinc-400">
          It also re-applies every {every(heal.intervalMs)} (next {next}).
        </p>
      </>
    );
  return (
    <>
      <p className="font-medium">
        {words.lead}, {next}.
      </p>
      <p className="text-zinc-600 dark:text-zinc-400">
        The reporter re-applies every {every(heal.intervalMs)}; drift seen in between is reported at
        once and healed then. {resyncNote(lastApply, ownOnly)}
      </p>
    </>
  );
}

/** Differences no resync removes: said plainly, with whose rules they are. */
function NotHealed({ diffs }: { diffs: Difference[] }) {
  if (diffs.length === 0) return null;
  return (
    <p className="mt-2 text-amber-800 dark:text-amber-300" data-testid="not-healed-by-resync">
      A resync does not change{" "}
      {diffs.length === 1 ? "one difference" : `${diffs.length} differences`} here:{" "}
      {diffs.length === 1 ? "it comes" : "they come"} from rules the agent does not own (another
      component&apos;s chain, or the other iptables backend), named under What differs. Remove or
      change those rules where they are made.
    </p>
  );
}

/**
 * "Next automatic heal": periodic (with when), never (observe mode) or not known (why); on a
 * node with nothing to heal, "Next resync" (healWording).
 */
export function HealCard({
  heal,
  status,
  cannotHeal = false,
  notHealed = [],
  lastApply = null,
}: {
  heal: HealSchedule;
  /** The node's status: an in-sync node has nothing to heal, only a periodic resync. */
  status: NodeStatus;
  /** The server's NodeSummary.resyncCannotHeal is set: a resync would leave it drifted. */
  cannotHeal?: boolean;
  /** The node view's differences a resync does not remove. */
  notHealed?: Difference[];
  /** The node's last apply: when it failed, a resync only tries again. */
  lastApply?: Pick<ApplyResult, "ok"> | null;
}) {
  return (
    <section
      aria-labelledby="heal-heading"
      className="rounded-xl border border-zinc-200 bg-white p-4 text-sm dark:border-zinc-800 dark:bg-zinc-900"
      data-heal={heal.kind}
    >
      <h2 id="heal-heading" className="mb-1 text-base font-semibold">
        {heal.kind === "periodic" ? healWording(status, cannotHeal).heading : "Next automatic heal"}
      </h2>
      {heal.kind === "periodic" ? (
        <Periodic
          heal={heal}
          status={status}
          cannotHeal={cannotHeal}
          ownOnly={notHealed.length > 0}
          lastApply={lastApply}
        />
      ) : heal.kind === "observe" ? (
        <p>
          <span className="font-medium">Never: observe mode.</span>{" "}
          <span className="text-zinc-600 dark:text-zinc-400">
            The upstream ip-masq-agent owns this node&apos;s rules; the reporter only reads them.
          </span>
        </p>
      ) : (
        <p>
          <span className="font-medium">Not known:</span>{" "}
          <span className="text-zinc-600 dark:text-zinc-400">{heal.reason}.</span>
        </p>
      )}
      <NotHealed diffs={notHealed} />
    </section>
  );
}
