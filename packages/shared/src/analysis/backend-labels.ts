// Names of the two iptables backends for people, apart so the evaluator can name them without
// importing assess.ts (which imports the evaluator).
import type { IptablesBackend } from "../protocol.js";

/** How operators know the two backends (the command that shows each). */
export const BACKEND_LABELS: Record<IptablesBackend, string> = {
  nf_tables: "iptables-nft (nf_tables)",
  legacy: "iptables-legacy",
};
