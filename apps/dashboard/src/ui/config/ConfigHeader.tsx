"use client";
import type { EditableConfig } from "../api/endpoints";
import { Button } from "../components/Button";
import { PageHeader } from "../components/States";
import { RelativeTime } from "../components/Time";
import { nodesRunSentence } from "./nodes-run";

/** The page title with the revision being edited, and (for editors) Discard and Save. */
export function ConfigHeader({
  base,
  readOnly,
  dirty,
  errorCount,
  canSave,
  onDiscard,
  onSave,
}: {
  base: EditableConfig;
  readOnly: boolean;
  dirty: boolean;
  errorCount: number;
  /** The draft parses into a config (a YAML draft may not). */
  canSave: boolean;
  onDiscard: () => void;
  onSave: () => void;
}) {
  const nodesRun = nodesRunSentence(base);
  return (
    <PageHeader
      title="Config"
      description={
        <>
          Revision{" "}
          <span className="font-mono font-medium text-zinc-900 dark:text-zinc-100">
            {base.revision}
          </span>
          {base.author ? <> · saved by {base.author}</> : null}
          {base.updatedAt ? (
            <>
              {" "}
              <RelativeTime value={base.updatedAt} />
            </>
          ) : null}
          {nodesRun ? <> · {nodesRun}</> : null}
        </>
      }
      actions={
        readOnly ? null : (
          <>
            <Button onClick={onDiscard} disabled={!dirty}>
              Discard changes
            </Button>
            <Button
              variant="primary"
              disabled={!dirty || errorCount > 0 || !canSave}
              onClick={onSave}
              title={
                errorCount > 0
                  ? "Fix the errors first"
                  : !dirty
                    ? "Nothing changed"
                    : "Review the change before saving"
              }
            >
              Save
            </Button>
          </>
        )
      }
    />
  );
}
