"use client";
import type { Issue } from "@masq/shared";
import { Callout } from "../components/Callout";
import { AlertTriangleIcon, XCircleIcon } from "../components/icons";

/** One validation error or warning, next to what it is about. */
export function IssueLine({ issue, tone }: { issue: Issue; tone: "error" | "warning" }) {
  return (
    <p
      className={`flex items-start gap-1.5 text-xs ${tone === "error" ? "text-red-700 dark:text-red-400" : "text-amber-700 dark:text-amber-400"}`}
    >
      {tone === "error" ? (
        <XCircleIcon className="mt-px size-3.5 shrink-0" />
      ) : (
        <AlertTriangleIcon className="mt-px size-3.5 shrink-0" />
      )}
      <span>{issue.message}</span>
    </p>
  );
}

/** Every error of the form, under the editor: what blocks saving. */
export function ProblemsCallout({ errors }: { errors: readonly Issue[] }) {
  return (
    <Callout
      tone="error"
      title={`${errors.length} problem${errors.length === 1 ? "" : "s"} to fix before saving`}
    >
      <ul className="list-disc pl-4">
        {errors.map((x) => (
          <li key={x.message}>{x.message}</li>
        ))}
      </ul>
    </Callout>
  );
}

/** The errors of one form field (by issue code), as alerts under it. */
export function FieldErrors({ errors, code }: { errors: readonly Issue[]; code: Issue["code"] }) {
  return errors
    .filter((x) => x.code === code)
    .map((x) => (
      <p key={x.message} role="alert" className="mt-1 text-sm text-red-700 dark:text-red-400">
        {x.message}
      </p>
    ));
}
