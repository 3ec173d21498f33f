// The previous release named the dashboard's monotonic config number `generation`
// (`appliedGeneration`, `previousGeneration`) and the store's opaque version `revision`. This
// release says `revision` for the number, as `kubectl rollout history` numbers a Deployment's
// revisions, and `resourceVersion` for the opaque version (its Kubernetes name). These pure
// functions translate one object at the boundaries that meet the previous release: frames of
// a reporter or dashboard of that release during a rolling upgrade, and records it persisted.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function move(o: Obj, from: string, to: string): void {
  if (!(from in o) || to in o) return;
  o[to] = o[from];
  delete o[from];
}

/** Does `value` (one object) use the previous release's names? */
export function hasLegacyRevisionNames(value: unknown): boolean {
  if (!isObj(value)) return false;
  return (
    typeof value.revision === "string" ||
    typeof value.previousRevision === "string" ||
    "generation" in value ||
    "appliedGeneration" in value ||
    "previousGeneration" in value
  );
}

/**
 * One object in the previous release's names → this release's (a shallow copy; anything else,
 * or an object already in the current names, is returned as it is). A string `revision`, or
 * any `revision` beside a `generation`, is the old opaque version (`resourceVersion` now);
 * `generation` is the number (`revision` now).
 */
export function fromLegacyRevisionNames(value: unknown): unknown {
  if (!hasLegacyRevisionNames(value)) return value;
  const o: Obj = { ...(value as Obj) };
  // Beside a `generation`, `revision` is the old opaque version whatever its value (null too).
  if (typeof o.revision === "string" || "generation" in o) move(o, "revision", "resourceVersion");
  if (typeof o.previousRevision === "string" || "previousGeneration" in o)
    move(o, "previousRevision", "previousResourceVersion");
  move(o, "generation", "revision");
  move(o, "appliedGeneration", "appliedRevision");
  move(o, "previousGeneration", "previousRevision");
  return o;
}

/**
 * One protocol message of this release in the previous release's names, for a peer of that
 * release: `revision` (number) → `generation`, `resourceVersion` → `revision`,
 * `appliedRevision` → `appliedGeneration`. Other messages are returned as they are.
 */
export function toLegacyRevisionNames<T extends { type: string }>(msg: T): Obj {
  const o: Obj = { ...msg };
  if (msg.type === "desired" || msg.type === "apply-result") {
    move(o, "revision", "generation");
    move(o, "resourceVersion", "revision");
  }
  move(o, "appliedRevision", "appliedGeneration");
  return o;
}
