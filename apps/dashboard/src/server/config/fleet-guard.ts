// Configs the known nodes cannot take, refused at save. masqueradeCIDRs and observe mode do not
// mix: a node in observe mode runs beside the upstream agent, which ignores keys it does not
// know, so its chain never gets the exceptions and the node would show drift forever. Windows
// nodes cannot take an equivalent ExceptionList past its bound.
import { type Issue, type MasqConfig, usesExceptions, windowsExceptionList } from "@masq/shared";

/** Node names listed in the refusal; more are counted. */
const NAMED_NODES = 8;

export interface ModeNode {
  name: string;
  mode: "enforce" | "observe";
  os?: "linux" | "windows";
}

function named(names: string[]): string {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, NAMED_NODES).join(", ");
  return `${shown}${sorted.length > NAMED_NODES ? ` and ${sorted.length - NAMED_NODES} more` : ""}`;
}

/**
 * Windows nodes cannot take masqueradeCIDRs whose equivalent ExceptionList is past the bound
 * (windowsExceptionList): their reporters would refuse it, so the save is refused first.
 */
export function windowsListIssue(config: MasqConfig, nodes: Iterable<ModeNode>): Issue | undefined {
  const windows = [...nodes].filter((n) => n.os === "windows").map((n) => n.name);
  if (windows.length === 0) return undefined;
  const r = windowsExceptionList(config);
  if (r.ok) return undefined;
  return {
    code: "undeliverable",
    message: `${r.reason} (Windows nodes: ${named(windows)})`,
  };
}

/** The first reason the known nodes cannot take this config, if any. */
export function fleetIssue(config: MasqConfig, nodes: Iterable<ModeNode>): Issue | undefined {
  const list = [...nodes];
  return observeModeIssue(config, list) ?? windowsListIssue(config, list);
}

/**
 * The refusal (an Issue for the validate dry run and the 422 of a save), or undefined when the
 * config uses no masqueradeCIDRs or no node is in observe mode.
 */
export function observeModeIssue(config: MasqConfig, nodes: Iterable<ModeNode>): Issue | undefined {
  if (!usesExceptions(config)) return undefined;
  const observing = [...nodes].filter((n) => n.mode === "observe").map((n) => n.name);
  if (observing.length === 0) return undefined;
  const one = observing.length === 1;
  return {
    code: "observe-mode",
    message: `masqueradeCIDRs cannot be saved while ${one ? "a node is" : `${observing.length} nodes are`} in observe mode (${named(observing)}): ${one ? "it runs" : "they run"} beside the upstream ip-masq-agent, which ignores masqueradeCIDRs, so ${one ? "its" : "their"} rules would never have the exceptions and would show drift forever. Switch ${one ? "it" : "them"} to enforce mode, or remove masqueradeCIDRs`,
    value: String(observing.length),
  };
}
