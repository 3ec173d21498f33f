// The nat path evaluator: packets, tests, the walk, components, and combining backends.
export * from "./components.js";
export { conditionOf, describeConditions, describeRef, explainMatch } from "./describe.js";
export { type MarkState, type MarkTest, parseMarkTest } from "./marks.js";
export { addressRange, type CompiledRule, compileRule } from "./matches.js";
export * from "./packet.js";
export { type RangeSet, setToCidrs } from "./range-set.js";
export { type TargetAction, targetAction } from "./targets.js";
export * from "./types.js";
export { PATH_LIMITS, type PathLimits, type WalkInput, type WalkResult, walkPath } from "./walk.js";
