"use client";
// The config page with several sources: which source the editor edits (a picker; default the
// ip-masq-agent ConfigMap's `config`, edited by the usual editor), and the merged result with
// where every CIDR comes from and the conflicts. With one source the page is the editor alone.
import type { MergedConfigView } from "@masq/shared";
import { type ReactNode, useId, useState } from "react";
import { Callout } from "../components/Callout";
import { inputClass } from "../config/styles";
import { ConflictsCallout, MergedSourcesPanel, SourceProblems } from "./MergedSources";
import { SourceEditor } from "./SourceEditor";

function SourcePicker({
  merge,
  value,
  onChange,
}: {
  merge: MergedConfigView;
  value: string;
  onChange: (id: string) => void;
}) {
  const id = useId();
  return (
    <div className="flex flex-wrap items-center gap-2">
      <label htmlFor={id} className="text-sm font-medium">
        Source to edit
      </label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className={inputClass}
      >
        {merge.sources.map((s) => (
          <option key={s.id} value={s.id}>
            {s.label}
            {s.primary ? " (ip-masq-agent)" : ""}
            {s.valid ? "" : " — invalid"}
            {s.problem ? " — keeps changing" : ""}
            {s.editable ? "" : " — read only"}
          </option>
        ))}
      </select>
    </div>
  );
}

export function ConfigWithSources({
  merge,
  desiredRevision,
  editor,
}: {
  merge: MergedConfigView | null | undefined;
  /** The revision nodes run (GET /api/config `desiredRevision`). */
  desiredRevision: number | null;
  /** The editor of the primary source. */
  editor: ReactNode;
}) {
  const [picked, setPicked] = useState<string | null>(null);
  if (!merge) return <>{editor}</>;
  const primary = merge.sources.find((s) => s.primary);
  const current = merge.sources.some((s) => s.id === picked) ? picked : (primary?.id ?? null);
  const editingPrimary = current === primary?.id;
  return (
    <div className="space-y-4">
      <ConflictsCallout merge={merge} />
      <SourceProblems merge={merge} />
      {merge.observeWarning ? (
        <Callout tone="warning" title="Nodes in observe mode read one source">
          {merge.observeWarning}
        </Callout>
      ) : null}
      <SourcePicker merge={merge} value={current ?? ""} onChange={setPicked} />
      {editingPrimary || current === null ? editor : <SourceEditor key={current} id={current} />}
      <MergedSourcesPanel merge={merge} desiredRevision={desiredRevision} />
    </div>
  );
}
