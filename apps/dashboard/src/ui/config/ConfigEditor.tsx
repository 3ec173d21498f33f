"use client";
import type { ConflictCurrent, SaveResponse } from "@masq/shared";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { EditableConfig } from "../api/endpoints";
import { endpoints } from "../api/endpoints";
import { ErrorState, LoadingBlock, PageHeader, Skeleton } from "../components/States";
import { useToast } from "../components/Toaster";
import { abortedBehind } from "../fleet/rollout-label";
import { useFleetState } from "../live/live";
import { useRefetchOnLive } from "../live/refetch-on-live";
import { AbortedNotice } from "../rollout/AbortedNotice";
import { useCanEdit, useMe } from "../shell/me";
import { ConfigWithSources } from "../sources/ConfigSources";
import { useCandidate } from "./AddCidrForm";
import { CidrList } from "./CidrList";
import { ConfigHeader } from "./ConfigHeader";
import { ConfigNotices } from "./ConfigNotices";
import { adoptCurrent, savedSentence, savedWhat } from "./draft";
import { EditorTabs } from "./EditorTabs";
import { ProblemsCallout } from "./Issues";
import { OptionsPanel } from "./OptionsPanel";
import { ReviewDialog } from "./ReviewDialog";
import { showsRollout } from "./saved-rollout";
import { useConfigDraft } from "./useConfigDraft";
import { useUnsavedChangesGuard } from "./useUnsavedChangesGuard";
import { YamlTab } from "./YamlTab";

export function ConfigView() {
  const q = useQuery({ queryKey: ["config"], queryFn: ({ signal }) => endpoints.config(signal) });
  // "hello" too: a change made while the stream (re)connected sends no "config" event of its own.
  useRefetchOnLive(["config", "hello"], ["config"]);
  if (q.isPending) {
    return (
      <>
        <PageHeader title="Config" description="The ip-masq-agent config every node enforces." />
        <LoadingBlock label="Loading config…">
          <Skeleton className="h-10 w-72" />
          <Skeleton className="h-64 w-full" />
        </LoadingBlock>
      </>
    );
  }
  if (q.isError) {
    return (
      <>
        <PageHeader title="Config" />
        <ErrorState error={q.error} what="the config" onRetry={() => void q.refetch()} />
      </>
    );
  }
  return (
    <ConfigWithSources
      merge={q.data.merge}
      desiredRevision={q.data.desiredRevision}
      editor={<ConfigEditor latest={q.data} />}
    />
  );
}

function ConfigEditor({ latest }: { latest: EditableConfig }) {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useMe();
  const readOnly = !useCanEdit();
  const fleet = useFleetState();
  const [reviewing, setReviewing] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const candidate = useCandidate();
  const exceptionCandidate = useCandidate();
  const d = useConfigDraft(latest, reviewing);
  const { base, config, flags, validation, source, tab } = d;
  const leaveGuard = useUnsavedChangesGuard(d.dirty);

  const listProps = {
    config,
    base: base.config,
    flags,
    byValue: d.byValue,
    readOnly,
    edit: d.edit,
  };
  const rollout = fleet.summary?.rollout ?? null;
  const showRollout = showsRollout(rollout, saved);

  const onSaved = async (r: SaveResponse) => {
    setSaved(r.resourceVersion);
    // The draft is clean before the dialog closes: in between, the unsaved-changes guard would
    // stop a navigation for edits that are saved.
    const fresh = await qc
      .fetchQuery({ queryKey: ["config"], queryFn: () => endpoints.config(), staleTime: 0 })
      .catch(() => null);
    if (fresh) d.reset(fresh);
    setReviewing(false);
    toast("success", savedSentence(savedWhat(r, fresh), r));
    void qc.invalidateQueries({ queryKey: ["history"] });
  };

  const onReloadTheirs = (current: ConflictCurrent) => {
    setReviewing(false);
    d.reset(adoptCurrent(base, current));
    void qc.invalidateQueries({ queryKey: ["config"] });
  };

  // Review again, now against their revision.
  const onRebase = (current: ConflictCurrent) => {
    if (d.rebaseOnto(current)) setReviewing(true);
  };

  const errorCount = validation.errors.length;
  // The form's issues; null while the YAML tab is the source (shown there).
  const formIssues = source === "form" ? validation : null;
  const formErrors = formIssues?.errors;
  return (
    <>
      <ConfigHeader
        base={base}
        readOnly={readOnly}
        dirty={d.dirty}
        errorCount={errorCount}
        canSave={d.payload !== null}
        onDiscard={() => d.reset(base)}
        onSave={() => setReviewing(true)}
      />
      <div className="space-y-4">
        <ConfigNotices
          viewer={me.data?.role === "viewer"}
          invalidStored={
            !latest.valid && latest.resourceVersion === base.resourceVersion ? latest : null
          }
          newer={latest.resourceVersion !== base.resourceVersion ? latest : null}
          onLoadNewer={d.reset}
          rollout={showRollout ? rollout : null}
          aborted={
            rollout && fleet.summary
              ? abortedBehind(rollout, fleet.summary.abortedRevision, fleet.summary.desiredRevision)
              : null
          }
        />
        <AbortedNotice stored={base.revision} aborted={base.abortedRevision} />
        <div className="rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
          <EditorTabs tab={tab} dirty={d.dirty} tabError={d.tabError} onSwitch={d.switchTab} />
          {tab === "list" ? (
            <div
              id="panel-list"
              role="tabpanel"
              aria-labelledby="tab-list"
              className="grid gap-6 p-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]"
            >
              <div className="grid gap-6">
                <CidrList {...listProps} candidate={candidate} />
                <CidrList {...listProps} list="masqueradeCIDRs" candidate={exceptionCandidate} />
              </div>
              <OptionsPanel
                config={config}
                flags={flags}
                edit={d.edit}
                readOnly={readOnly}
                issues={formIssues}
              />
            </div>
          ) : (
            <YamlTab
              yaml={d.yaml}
              onChange={d.editYaml}
              readOnly={readOnly}
              validation={source === "yaml" ? validation : null}
            />
          )}
        </div>
        {tab === "list" && formErrors && errorCount > 0 ? (
          <ProblemsCallout errors={formErrors} />
        ) : null}
      </div>
      {reviewing && d.payload ? (
        <ReviewDialog
          open={reviewing}
          base={base}
          latest={latest}
          payload={d.payload}
          onClose={() => setReviewing(false)}
          onSaved={(r) => void onSaved(r)}
          onReloadTheirs={onReloadTheirs}
          onRebase={onRebase}
        />
      ) : null}
      {leaveGuard}
    </>
  );
}
