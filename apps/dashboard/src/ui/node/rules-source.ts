// Where the tester's answer for a node comes from (the words after "the answer comes"): its
// current rules, its last known ones and how old, or none, when no rules of it are known here
// (a node known only from the roster kept before a restart, which holds no rules, or a node that
// has not reported yet): then Check can only say so, and the card must not promise an answer.
import { type Freshness, NOT_HEARD_SINCE_RESTART } from "@masq/shared";

export type RulesSource =
  | { kind: "live" }
  | { kind: "last-known"; at: number | null }
  | { kind: "not-known"; text: string };

export function rulesSource(
  f: Pick<Freshness, "liveness" | "lastSeenAt" | "lastReportAt" | "notHeardSinceStart">,
): RulesSource {
  if (f.lastReportAt === null) {
    if (f.notHeardSinceStart !== undefined)
      return {
        kind: "not-known",
        text: `from this node's rules, which are not known here: ${NOT_HEARD_SINCE_RESTART}, they are once its reporter reconnects and reports them`,
      };
    return {
      kind: "not-known",
      text: "from this node's rules once its reporter has reported them (none yet)",
    };
  }
  if (f.liveness === "live") return { kind: "live" };
  return { kind: "last-known", at: f.lastSeenAt };
}
