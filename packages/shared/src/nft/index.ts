// Native nftables: the agent's own table (names, render), libnftables JSON (schema, parse), and
// the analysis of nftables rulesets in the same types as iptables' (translate, analysis,
// evaluate).
export * from "./analysis.js";
export * from "./assess.js";
export * from "./desired-ruleset.js";
export * from "./drift.js";
export { elementRange, elementsRanges } from "./elements.js";
export * from "./evaluate.js";
export * from "./iptables-hooks.js";
export * from "./names.js";
export * from "./node-view.js";
export * from "./parse.js";
export * from "./render.js";
export * from "./schema.js";
export { exprText, ruleText, statementText } from "./text.js";
export { chainRef, translateRule } from "./translate.js";
