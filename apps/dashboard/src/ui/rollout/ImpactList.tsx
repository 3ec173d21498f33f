import type { DestinationImpact, Impact } from "@masq/shared";
import { impactSentence, rolloutSentence } from "../config/draft";

/**
 * What a change means for traffic, as the server computed it (save review, rollback, compare).
 * `nodesText`: the closing sentence about nodes (default: the save's "will be applied to");
 * `sentence`: one destination's (default: a change to come, "will be masqueraded").
 */
export function ImpactList({
  impact,
  nodesText = rolloutSentence,
  sentence = impactSentence,
}: {
  impact: Impact;
  nodesText?: (nodes: number) => string;
  sentence?: (d: DestinationImpact) => string;
}) {
  return (
    <ul className="space-y-1.5 text-sm">
      {impact.destinations.length === 0 ? (
        <li className="text-zinc-600 dark:text-zinc-400">
          No destination changes between masqueraded and not masqueraded.
        </li>
      ) : (
        impact.destinations.map((d) => (
          <li key={`${d.cidr}-${d.change}`} className="flex gap-2">
            <span
              aria-hidden="true"
              className={`mt-1.5 size-2 shrink-0 rounded-full ${d.change === "no-longer-masqueraded" ? "bg-emerald-500" : "bg-amber-500"}`}
            />
            <span>{sentence(d)}</span>
          </li>
        ))
      )}
      <li className="text-zinc-600 dark:text-zinc-400">{nodesText(impact.nodes)}</li>
      {impact.notJudged ? (
        <li className="text-zinc-600 dark:text-zinc-400">
          {impact.notJudged.nodes} more node{impact.notJudged.nodes === 1 ? " is" : "s are"} not
          counted here: {impact.notJudged.reason}.
        </li>
      ) : null}
      {impact.notAsConfigured ? (
        <li className="text-zinc-600 dark:text-zinc-400">
          {impact.notAsConfigured.nodes} node{impact.notAsConfigured.nodes === 1 ? " is" : "s are"}{" "}
          left out of the destination counts: {impact.notAsConfigured.reason}.
        </li>
      ) : null}
    </ul>
  );
}
