// The issues of the list view's option fields (resyncInterval, cidrLimit), from the shared
// validation the YAML tab and the save review show: the list view showed a field's errors
// only, so resyncInterval "0s" warned in YAML and in the review, and not beside its field.
import type { Issue } from "@masq/shared";

/** Which issue codes belong beside which option field. */
const FIELD_CODES = {
  resyncInterval: ["duration", "resync-interval"],
  cidrLimit: ["cidr-limit"],
} as const satisfies Record<string, readonly Issue["code"][]>;

export type OptionField = keyof typeof FIELD_CODES;

/** The errors and warnings of one option field, as the shared validation found them. */
export function fieldIssues(
  v: { errors: readonly Issue[]; warnings: readonly Issue[] },
  field: OptionField,
): { errors: Issue[]; warnings: Issue[] } {
  const codes: readonly Issue["code"][] = FIELD_CODES[field];
  return {
    errors: v.errors.filter((x) => codes.includes(x.code)),
    warnings: v.warnings.filter((x) => codes.includes(x.code)),
  };
}
