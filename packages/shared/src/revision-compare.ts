// Two revisions side by side: every key of the config old → new (lists as their text), with
// the CIDR lists' additions and removals from the shared config diff. The dashboard adds the
// traffic impact (server side); the UI only renders. Keys are read from both configs, so a key
// added to the config's shape is compared without a change here.
import type { MasqConfig } from "./config.js";
import { type ConfigDiff, diffConfigs } from "./config-diff.js";

export interface KeyChange {
  key: string;
  /** The value in the older revision (undefined: the key is absent there). */
  from: unknown;
  to: unknown;
  changed: boolean;
}

export interface ConfigComparison {
  keys: KeyChange[];
  diff: ConfigDiff;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every key of either config, in the newer config's order, then keys only the older has. */
export function compareConfigs(before: MasqConfig, after: MasqConfig): ConfigComparison {
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return {
    keys: names.map((key) => ({ key, from: b[key], to: a[key], changed: !same(b[key], a[key]) })),
    diff: diffConfigs(before, after),
  };
}
