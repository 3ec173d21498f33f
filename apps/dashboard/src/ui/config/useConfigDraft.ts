// The config being edited: the base revision, the draft as a form (a config) or as text (YAML),
// which of the two is the source, and its validation with the shared code (as you type).

import {
  type ConflictCurrent,
  configsEqual,
  type MasqConfig,
  parseConfigText,
  serializeConfig,
  validateConfig,
} from "@masq/shared";
import { useEffect, useMemo, useState } from "react";
import type { EditableConfig } from "../api/endpoints";
import { adoptCurrent, issuesByValue, rebase, requestSizeIssue } from "./draft";
import type { Tab } from "./EditorTabs";
import type { ReviewPayload } from "./ReviewDialog";

type Source = "form" | "yaml";

/** Changes the form's draft (and makes the form the source). */
export type EditConfig = (f: (c: MasqConfig) => MasqConfig) => void;

/** `reviewing`: a save is under review, so a newer revision must not replace the draft. */
export function useConfigDraft(latest: EditableConfig, reviewing: boolean) {
  const [base, setBase] = useState<EditableConfig>(latest);
  const [config, setConfig] = useState<MasqConfig>(latest.config);
  const [yaml, setYaml] = useState(latest.yaml);
  const [source, setSource] = useState<Source>(latest.valid ? "form" : "yaml");
  const [tab, setTab] = useState<Tab>(latest.valid ? "list" : "yaml");
  const [tabError, setTabError] = useState<string | null>(null);
  const flags = base.flags;

  const yamlParse = useMemo(
    () => (source === "yaml" ? parseConfigText(yaml, flags) : null),
    [source, yaml, flags],
  );
  const draftConfig: MasqConfig | null =
    source === "form" ? config : yamlParse?.ok ? yamlParse.config : null;
  const validation = useMemo(() => {
    const v =
      source === "yaml" && yamlParse
        ? { errors: yamlParse.ok ? [] : yamlParse.errors, warnings: yamlParse.warnings }
        : validateConfig(config, flags);
    const tooLarge = requestSizeIssue(source === "yaml" ? { yaml } : { config });
    return tooLarge ? { ...v, errors: [...v.errors, tooLarge] } : v;
  }, [source, yamlParse, yaml, config, flags]);
  const dirty = source === "yaml" ? yaml !== base.yaml : !configsEqual(config, base.config);
  const byValue = useMemo(
    () => ({
      errors: issuesByValue(validation.errors),
      warnings: issuesByValue(validation.warnings),
    }),
    [validation],
  );

  const reset = (next: EditableConfig) => {
    setBase(next);
    setConfig(next.config);
    setYaml(next.yaml);
    setSource(next.valid ? "form" : "yaml");
    if (!next.valid) setTab("yaml");
    setTabError(null);
  };

  // A newer revision arrived (live event): adopt it when nothing is being edited.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only react to a new revision
  useEffect(() => {
    if (latest.resourceVersion !== base.resourceVersion && !dirty && !reviewing) reset(latest);
  }, [latest.resourceVersion]);

  const edit: EditConfig = (f) => {
    setConfig((c) => f(c));
    setSource("form");
  };

  const editYaml = (text: string) => {
    setYaml(text);
    setSource("yaml");
  };

  /** To YAML: the form's draft as text. To the list: only when the YAML parses. */
  const switchTab = (t: Tab) => {
    setTabError(null);
    if (t === tab) return;
    if (t === "yaml") {
      if (source === "form" && !configsEqual(config, base.config)) setYaml(serializeConfig(config));
      else if (source === "form") setYaml(base.yaml);
      setTab("yaml");
      return;
    }
    if (source === "yaml") {
      const r = parseConfigText(yaml, flags);
      if (!r.ok) {
        setTabError("Fix the YAML errors below before switching to the list view.");
        return;
      }
      setConfig(r.config);
      setSource("form");
    }
    setTab("list");
  };

  /** Re-applies this draft on top of their revision (a save conflict); false when theirs does not parse. */
  const rebaseOnto = (current: ConflictCurrent): boolean => {
    const mine = draftConfig ?? config;
    if (!current.config) return false;
    const rebased = rebase(base.config, mine, current.config);
    setBase(adoptCurrent(base, current));
    setConfig(rebased);
    setSource("form");
    setTab("list");
    return true;
  };

  const payload: ReviewPayload | null = draftConfig
    ? source === "yaml"
      ? { kind: "yaml", yaml, config: draftConfig }
      : { kind: "config", config: draftConfig }
    : null;

  return {
    base,
    config,
    yaml,
    source,
    tab,
    tabError,
    flags,
    validation,
    byValue,
    dirty,
    payload,
    reset,
    edit,
    editYaml,
    switchTab,
    rebaseOnto,
  };
}
