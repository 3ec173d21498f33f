"use client";
import { type AgentFlags, MAX_CIDR_CHARS, type MasqConfig } from "@masq/shared";
import { type FormEvent, useId, useMemo, useRef, useState } from "react";
import { Button } from "../components/Button";
import { AlertTriangleIcon, PlusIcon, XCircleIcon } from "../components/icons";
import { type CandidateCheck, type CidrListKey, checkCandidate, showCandidateCheck } from "./draft";
import { inputClass } from "./styles";

/** The text typed into "Add CIDR": held by the editor, so it survives a switch to YAML and back. */
export function useCandidate() {
  const [text, setText] = useState("");
  const [showErrors, setShowErrors] = useState(false);
  return { text, setText, showErrors, setShowErrors };
}
export type Candidate = ReturnType<typeof useCandidate>;

/** The first problem of the typed CIDR, with the aligned CIDR to use instead when there is one. */
function CandidateMessage({
  check,
  onSuggestion,
}: {
  check: CandidateCheck;
  onSuggestion: (cidr: string) => void;
}) {
  const error = check.errors[0];
  if (error) {
    return (
      <div
        role="alert"
        className="flex flex-wrap items-center gap-2 text-sm text-red-700 dark:text-red-400"
      >
        <XCircleIcon className="size-4 shrink-0" />
        <span>{error.message}</span>
        {error.suggestion ? (
          <button
            type="button"
            className="rounded px-1.5 py-0.5 font-medium underline decoration-dotted underline-offset-2 hover:bg-red-50 dark:hover:bg-red-500/10"
            onClick={() => onSuggestion(error.suggestion!)}
          >
            Use {error.suggestion}
          </button>
        ) : null}
      </div>
    );
  }
  const warning = check.warnings[0];
  return warning ? (
    <div
      role="alert"
      className="flex items-center gap-2 text-sm text-amber-700 dark:text-amber-400"
    >
      <AlertTriangleIcon className="size-4 shrink-0" />
      <span>{warning.message}</span>
    </div>
  ) : null;
}

/** "Add CIDR": checked as you type with the shared validation; refuses what would be an error. */
export function AddCidrForm({
  config,
  flags,
  candidate,
  onAdd,
  list = "nonMasqueradeCIDRs",
}: {
  config: MasqConfig;
  flags: AgentFlags;
  candidate: Candidate;
  onAdd: (cidr: string) => void;
  list?: CidrListKey;
}) {
  const id = useId();
  const msgId = useId();
  const ref = useRef<HTMLInputElement>(null);
  const { text: value, setText, showErrors, setShowErrors } = candidate;
  const check = useMemo(
    () => checkCandidate(config, value, flags, list),
    [config, value, flags, list],
  );
  const showCheck = showCandidateCheck(value, showErrors);

  const add = (e: FormEvent) => {
    e.preventDefault();
    const text = value.trim();
    if (text === "") {
      ref.current?.focus();
      return;
    }
    if (checkCandidate(config, text, flags, list).errors.length > 0) {
      setShowErrors(true);
      ref.current?.focus();
      return;
    }
    onAdd(text);
    setText("");
    setShowErrors(false);
    ref.current?.focus();
  };

  return (
    <form onSubmit={add} className="mb-3" noValidate>
      <label
        htmlFor={id}
        className="mb-1 block text-sm font-medium text-zinc-800 dark:text-zinc-200"
      >
        {list === "masqueradeCIDRs" ? "Add exception" : "Add CIDR"}
      </label>
      <div className="flex gap-2">
        <input
          id={id}
          ref={ref}
          value={value}
          onChange={(e) => {
            setText(e.target.value);
            if (e.target.value.trim() === "") setShowErrors(false);
          }}
          onBlur={() => value.trim() !== "" && setShowErrors(true)}
          placeholder={list === "masqueradeCIDRs" ? "e.g. 10.100.10.0/24" : "e.g. 100.64.0.0/10"}
          maxLength={MAX_CIDR_CHARS}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={showCheck && check.errors.length > 0}
          aria-describedby={msgId}
          className={`${inputClass} w-full max-w-xs font-mono`}
        />
        <Button type="submit" variant="secondary" icon={<PlusIcon className="size-4" />}>
          {list === "masqueradeCIDRs" ? "Add exception" : "Add"}
        </Button>
      </div>
      <div id={msgId} className="mt-1.5 min-h-5">
        {showCheck ? (
          <CandidateMessage
            check={check}
            onSuggestion={(cidr) => {
              setText(cidr);
              ref.current?.focus();
            }}
          />
        ) : null}
      </div>
    </form>
  );
}
