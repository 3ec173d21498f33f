"use client";
import {
  type AgentFlags,
  type Issue,
  LINK_LOCAL_CIDR,
  LINK_LOCAL_CIDR_IPV6,
  type MasqConfig,
} from "@masq/shared";
import { type ReactNode, useId } from "react";
import { fieldIssues } from "./field-issues";
import { FieldErrors, IssueLine } from "./Issues";
import { inputClass } from "./styles";
import type { EditConfig } from "./useConfigDraft";

function Toggle({
  id,
  label,
  description,
  checked,
  onChange,
  disabled,
}: {
  id: string;
  label: string;
  description: ReactNode;
  checked: boolean;
  onChange: (v: boolean) => void;
  disabled: boolean;
}) {
  return (
    <div className="flex items-start gap-3">
      <input
        id={id}
        type="checkbox"
        role="switch"
        checked={checked}
        aria-checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
        aria-describedby={`${id}-desc`}
        className="peer sr-only"
      />
      <label
        htmlFor={id}
        aria-hidden="true"
        className={`relative mt-0.5 inline-flex h-5 w-9 shrink-0 cursor-pointer rounded-full transition-colors peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-indigo-500 peer-disabled:cursor-not-allowed peer-disabled:opacity-60 ${
          checked ? "bg-indigo-600 dark:bg-indigo-500" : "bg-zinc-300 dark:bg-zinc-700"
        }`}
      >
        <span
          className={`absolute top-0.5 left-0.5 size-4 rounded-full bg-white shadow transition-transform ${checked ? "translate-x-4" : ""}`}
        />
      </label>
      <div className="text-sm">
        <label htmlFor={id} className="font-mono font-medium text-zinc-900 dark:text-zinc-100">
          {label}
        </label>
        <p id={`${id}-desc`} className="text-zinc-600 dark:text-zinc-400">
          {description}
        </p>
      </div>
    </div>
  );
}

/** A config key's label and description above its input. */
function FieldLabel({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <>
      <label
        htmlFor={id}
        className="block font-mono text-sm font-medium text-zinc-900 dark:text-zinc-100"
      >
        {label}
      </label>
      <p id={`${id}-desc`} className="mb-1 text-sm text-zinc-600 dark:text-zinc-400">
        {children}
      </p>
    </>
  );
}

interface FieldProps {
  config: MasqConfig;
  edit: EditConfig;
  readOnly: boolean;
  /** The form's errors and warnings; null while the YAML tab is the source (shown there). */
  issues: { errors: readonly Issue[]; warnings: readonly Issue[] } | null;
}

/** A field's warnings (the shared validation's, as the YAML tab and the review show them). */
function FieldWarnings({ warnings }: { warnings: readonly Issue[] }) {
  return warnings.map((x) => (
    <div key={x.message} className="mt-1">
      <IssueLine issue={x} tone="warning" />
    </div>
  ));
}

function ResyncIntervalField({ config, edit, readOnly, issues }: FieldProps) {
  const id = useId();
  const own = issues ? fieldIssues(issues, "resyncInterval") : null;
  return (
    <div>
      <FieldLabel id={id} label="resyncInterval">
        How often every node re-reads and re-applies its chain (Go duration: 60s, 5m, 1h30m).
      </FieldLabel>
      <input
        id={id}
        value={config.resyncInterval}
        disabled={readOnly}
        onChange={(e) => edit((c) => ({ ...c, resyncInterval: e.target.value }))}
        aria-invalid={(own?.errors.length ?? 0) > 0}
        aria-describedby={`${id}-desc ${id}-err`}
        spellCheck={false}
        className={`${inputClass} w-40 font-mono`}
      />
      <div id={`${id}-err`}>
        {own ? <FieldErrors errors={own.errors} code="duration" /> : null}
        {own ? <FieldWarnings warnings={own.warnings} /> : null}
      </div>
    </div>
  );
}

function CidrLimitField({ config, edit, readOnly, issues }: FieldProps) {
  const id = useId();
  const own = issues ? fieldIssues(issues, "cidrLimit") : null;
  return (
    <div>
      <FieldLabel id={id} label="cidrLimit">
        The most CIDRs the agents accept (link-local not counted).
      </FieldLabel>
      <input
        id={id}
        type="number"
        min={1}
        value={config.cidrLimit}
        disabled={readOnly}
        onChange={(e) => {
          const n = Number.parseInt(e.target.value, 10);
          if (Number.isFinite(n)) edit((c) => ({ ...c, cidrLimit: n }));
        }}
        aria-describedby={`${id}-desc`}
        className={`${inputClass} w-28`}
      />
      {own ? <FieldErrors errors={own.errors} code="cidr-limit" /> : null}
      {own ? <FieldWarnings warnings={own.warnings} /> : null}
    </div>
  );
}

function AgentFlagsNote({ flags }: { flags: AgentFlags }) {
  return (
    <div className="rounded-lg bg-zinc-50 p-3 text-xs text-zinc-600 dark:bg-zinc-950/60 dark:text-zinc-400">
      <p className="font-medium text-zinc-700 dark:text-zinc-300">
        Agent flags (per node, not part of the ConfigMap)
      </p>
      <p className="mt-1 font-mono">
        chain {flags.masqChain} · random-fully {flags.randomFully ? "on" : "off"} · IPv6{" "}
        {flags.enableIPv6 ? "on" : "off"}
        {flags.toPorts ? ` · to-ports ${flags.toPorts}` : ""}
      </p>
    </div>
  );
}

/** The config's other keys (link-local switches, resync interval, CIDR limit) and the agent flags. */
export function OptionsPanel({
  config,
  flags,
  edit,
  readOnly,
  issues,
}: FieldProps & { flags: AgentFlags }) {
  const ll = useId();
  const ll6 = useId();
  return (
    <section aria-labelledby="options-heading" className="space-y-5">
      <h2 id="options-heading" className="text-sm font-semibold text-zinc-900 dark:text-zinc-100">
        Options
      </h2>
      <Toggle
        id={ll}
        label="masqLinkLocal"
        checked={config.masqLinkLocal}
        disabled={readOnly}
        onChange={(v) => edit((c) => ({ ...c, masqLinkLocal: v }))}
        description={<>Masquerade traffic to link-local {LINK_LOCAL_CIDR} too.</>}
      />
      <Toggle
        id={ll6}
        label="masqLinkLocalIPv6"
        checked={config.masqLinkLocalIPv6}
        disabled={readOnly}
        onChange={(v) => edit((c) => ({ ...c, masqLinkLocalIPv6: v }))}
        description={
          <>
            Masquerade traffic to {LINK_LOCAL_CIDR_IPV6}.{" "}
            {flags.enableIPv6 ? null : (
              <span className="italic">Only used when the agents run with --enable-ipv6.</span>
            )}
          </>
        }
      />
      <ResyncIntervalField config={config} edit={edit} readOnly={readOnly} issues={issues} />
      <CidrLimitField config={config} edit={edit} readOnly={readOnly} issues={issues} />
      <AgentFlagsNote flags={flags} />
    </section>
  );
}
