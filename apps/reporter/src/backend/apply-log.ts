// The "apply finished" log line of every backend, with the same fields (a new user grepping
// `changed` found it in iptables' lines and not in nftables'): one line per apply, whatever
// its outcome (refused, nothing to write, written, rolled back), named by the trigger.
import type { ApplyTrigger } from "@masq/shared";
import type { Logger } from "../log.js";
import type { ApplyOutcome } from "./types.js";

/** The fields every backend's apply line carries; `error` only when it failed. */
export function applyLogFields(
  trigger: ApplyTrigger,
  o: Pick<ApplyOutcome<unknown>, "ok" | "changed" | "rolledBack" | "error">,
): Record<string, unknown> {
  return {
    trigger,
    ok: o.ok,
    changed: o.changed,
    rolledBack: o.rolledBack,
    ...(o.error !== undefined ? { error: o.error } : {}),
  };
}

/** Logs `o` as "apply finished" (info), with what this backend adds (`extra`). */
export function logApplyFinished(
  log: Logger,
  trigger: ApplyTrigger,
  o: Pick<ApplyOutcome<unknown>, "ok" | "changed" | "rolledBack" | "error">,
  extra: Record<string, unknown> = {},
): void {
  log.info({ ...applyLogFields(trigger, o), ...extra }, "apply finished");
}
