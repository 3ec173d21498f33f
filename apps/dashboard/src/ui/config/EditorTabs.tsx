"use client";
import { Callout } from "../components/Callout";

export type Tab = "list" | "yaml";

/** "CIDR list" / "YAML" tabs (arrow keys move between them), the unsaved mark, and why a switch was refused. */
export function EditorTabs({
  tab,
  dirty,
  tabError,
  onSwitch,
}: {
  tab: Tab;
  dirty: boolean;
  tabError: string | null;
  onSwitch: (t: Tab) => void;
}) {
  return (
    <>
      <div
        role="tablist"
        aria-label="Editor view"
        className="flex gap-1 border-b border-zinc-200 px-3 pt-2 dark:border-zinc-800"
      >
        {(["list", "yaml"] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`panel-${t}`}
            onClick={() => onSwitch(t)}
            onKeyDown={(e) => {
              if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
                e.preventDefault();
                const other = t === "list" ? "yaml" : "list";
                onSwitch(other);
                document.getElementById(`tab-${other}`)?.focus();
              }
            }}
            tabIndex={tab === t ? 0 : -1}
            className={`-mb-px rounded-t-md border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-indigo-500 ${
              tab === t
                ? "border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300"
                : "border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"
            }`}
          >
            {t === "list" ? "CIDR list" : "YAML"}
          </button>
        ))}
        {dirty ? (
          <span className="ml-auto self-center rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800 dark:bg-amber-500/15 dark:text-amber-300">
            Unsaved changes
          </span>
        ) : null}
      </div>
      {tabError ? (
        <div className="px-4 pt-3">
          <Callout tone="error" role="alert">
            {tabError}
          </Callout>
        </div>
      ) : null}
    </>
  );
}
