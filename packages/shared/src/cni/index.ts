// Windows nodes: the masquerade intent lives in the CNI config as the `ExceptionList` of an
// `OutBoundNAT` endpoint policy (HNS SNATs pod traffic to every destination except these).
// These modules find those lists in a CNI config text (parse), read their entries as HNS does
// (entries), compute the list a config wants (desired), judge drift (drift), and rewrite only
// the lists, every other byte of the file kept (rewrite, layout). Pure: no I/O.
//
// IPv6 is not managed on Windows: a list holding only IPv6 entries (dual-stack configs carry a
// second OutBoundNAT policy for IPv6) is reported but never rewritten, and IPv6 entries of a
// mixed list are kept when it is rewritten.
export { desiredExceptions, type WindowsListResult, windowsExceptionList } from "./desired.js";
export { windowsDrift } from "./drift.js";
export { type ExceptionEntry, mixedListIPv6, readExceptionEntry } from "./entries.js";
export {
  type CniParseResult,
  type ExceptionForm,
  MAX_CNI_CONFIG_CHARS,
  parseCniConfig,
} from "./parse.js";
export { type CniRewriteResult, rewriteExceptionLists } from "./rewrite.js";
