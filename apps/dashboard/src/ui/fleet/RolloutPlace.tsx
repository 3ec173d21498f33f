import type { NodeSummary } from "@masq/shared";
import { describePlace, type PlaceTone } from "./rollout-place";

const TONE_CLASS: Record<PlaceTone, string> = {
  neutral: "text-zinc-600 dark:text-zinc-400",
  progress: "text-sky-700 dark:text-sky-400",
  done: "text-emerald-700 dark:text-emerald-400",
  failed: "font-medium text-red-700 dark:text-red-400",
  aborted: "text-amber-800 dark:text-amber-300",
};

/** The node's wave and progress in a staged rollout ("canary · applied"); nothing when none. */
export function RolloutPlace({ node }: { node: Pick<NodeSummary, "rollout"> }) {
  const d = describePlace(node.rollout);
  if (!d) return null;
  return (
    <span
      data-rollout={d.tone}
      title={d.title}
      className={`whitespace-nowrap ${TONE_CLASS[d.tone]}`}
    >
      {d.label}
      {/* Read after the label as its own sentence; the visible label has no full stop. */}
      <span className="sr-only">: {d.title}</span>
    </span>
  );
}

/** The Revision cell: the applied revision, the rollout place under it. */
export function RevisionCell({ node }: { node: NodeSummary }) {
  return (
    <>
      <span
        className="block tabular-nums text-zinc-800 dark:text-zinc-200"
        title={
          node.appliedRevision === null
            ? "The node has applied no revision yet"
            : `Applied revision ${node.appliedRevision}`
        }
      >
        {node.appliedRevision ?? "—"}
      </span>
      {node.rollout ? (
        <span className="block truncate text-xs">
          <RolloutPlace node={node} />
        </span>
      ) : null}
    </>
  );
}
