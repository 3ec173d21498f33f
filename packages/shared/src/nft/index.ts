// Native nftables: the agent's own table (names, render), libnftables JSON (schema), and the
// analysis of nftables rulesets in the same types as iptables'.
export * from "./names.js";
export * from "./render.js";
export * from "./schema.js";
