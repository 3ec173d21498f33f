"use client";
import type { Issue } from "@masq/shared";
import { useId } from "react";
import { IssueLine } from "./Issues";

/** The config as text (the ConfigMap's `config` key), validated as you type. */
export function YamlTab({
  yaml,
  onChange,
  readOnly,
  validation,
}: {
  yaml: string;
  onChange: (yaml: string) => void;
  readOnly: boolean;
  /** The text's errors and warnings; null while the list view is the source. */
  validation: { errors: readonly Issue[]; warnings: readonly Issue[] } | null;
}) {
  const id = useId();
  const msgId = useId();
  const errors = validation?.errors ?? [];
  return (
    <div id="panel-yaml" role="tabpanel" aria-labelledby="tab-yaml" className="p-4">
      <label
        htmlFor={id}
        className="mb-1 block text-sm font-medium text-zinc-800 dark:text-zinc-200"
      >
        Config YAML{" "}
        <span className="font-normal text-zinc-500">
          (the ConfigMap&apos;s <code>config</code> key, YAML or JSON)
        </span>
      </label>
      <textarea
        id={id}
        value={yaml}
        readOnly={readOnly}
        onChange={(e) => onChange(e.target.value)}
        rows={Math.min(30, Math.max(12, yaml.split("\n").length + 2))}
        spellCheck={false}
        aria-invalid={errors.length > 0}
        aria-describedby={msgId}
        className="block w-full rounded-md border-0 bg-zinc-50 p-3 font-mono text-sm leading-6 text-zinc-900 ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 aria-[invalid=true]:ring-red-500 dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700"
      />
      <div id={msgId} className="mt-2 space-y-1">
        {errors.length > 0 ? (
          <div role="alert" className="space-y-1">
            {errors.map((x) => (
              <IssueLine key={x.message} issue={x} tone="error" />
            ))}
          </div>
        ) : null}
        {validation?.warnings.map((x) => <IssueLine key={x.message} issue={x} tone="warning" />) ??
          null}
        {validation && errors.length === 0 ? (
          <p className="text-xs text-emerald-700 dark:text-emerald-400">Valid config.</p>
        ) : null}
      </div>
    </div>
  );
}
