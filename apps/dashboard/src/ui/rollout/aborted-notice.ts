// The config page's notice after an aborted staged rollout: the stored config still carries
// the aborted change, and a save from it includes that change.
import type { StagedRolloutView } from "@masq/shared";

export interface AbortedNoticeText {
  title: string;
  body: string;
}

/**
 * The notice, or null when there is none. `stored`: the stored text's revision; `aborted`: the
 * server's `abortedRevision` (numbered as nodes see revisions, apart from `stored` when config
 * sources are merged); `staged`: the staged rollout. Shown only when both say the same abort.
 */
export function abortedNotice(
  stored: number,
  aborted: number | null,
  staged: Pick<StagedRolloutView, "aborted" | "revision" | "previousRevision"> | null,
): AbortedNoticeText | null {
  if (aborted === null || !staged?.aborted || staged.revision !== aborted) return null;
  const back = staged.previousRevision;
  // One source: the stored text's revision is the one nodes were sent, and History rolls back by it.
  const alone = stored === aborted;
  return {
    title: `The rollout of revision ${aborted} was aborted`,
    body:
      `Every node runs revision ${back ?? "the previous one"} again. ` +
      (alone
        ? `The config below is still revision ${aborted}, the aborted change: `
        : `The config below (stored revision ${stored}) still carries the aborted change: `) +
      "a save from here includes it. " +
      (alone && back !== null
        ? `To drop it, roll back to revision ${back} in History.`
        : "To drop it, remove it from the config, or roll back in History."),
  };
}
