// RFC 6902 JSON patch as the API server applies it (evanphx/json-patch): add, remove, replace,
// move, copy and test on RFC 6901 pointers; a path that does not exist or a failed test is a
// 422 with the library's message, and nothing is written.
import { ApiError, badRequest, type Obj } from "./status.js";

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

const unprocessable = (message: string) => new ApiError(422, "Invalid", message);

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw unprocessable(`invalid JSON pointer: "${path}"`);
  return path
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** The container holding the last token of `path`, and that token. */
function parentOf(doc: Obj, path: string): { parent: Obj; key: string } {
  const tokens = pointer(path);
  const key = tokens.pop();
  if (key === undefined) throw unprocessable("the root cannot be patched");
  let parent = doc;
  for (const t of tokens) {
    parent = parent?.[Array.isArray(parent) ? Number(t) : t];
    if (typeof parent !== "object" || parent === null)
      throw unprocessable(`doc is missing path: "${path}": missing value`);
  }
  return { parent, key };
}

function read(doc: Obj, path: string): unknown {
  const { parent, key } = parentOf(doc, path);
  const v = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (v === undefined) throw unprocessable(`doc is missing path: "${path}": missing value`);
  return v;
}

function add(doc: Obj, path: string, value: unknown): void {
  const { parent, key } = parentOf(doc, path);
  if (!Array.isArray(parent)) parent[key] = value;
  else if (key === "-") parent.push(value);
  else {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length)
      throw unprocessable(`unable to add index ${key}: out of bounds`);
    parent.splice(i, 0, value);
  }
}

function remove(doc: Obj, path: string): void {
  read(doc, path);
  const { parent, key } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
}

const OPS: Record<string, (doc: Obj, o: Op) => void> = {
  add: (doc, o) => add(doc, o.path, structuredClone(o.value)),
  remove: (doc, o) => remove(doc, o.path),
  replace: (doc, o) => {
    remove(doc, o.path);
    add(doc, o.path, structuredClone(o.value));
  },
  test: (doc, o) => {
    if (JSON.stringify(read(doc, o.path)) !== JSON.stringify(o.value))
      throw unprocessable(`testing value ${o.path} failed: test failed`);
  },
  move: (doc, o) => {
    const v = read(doc, o.from ?? "");
    remove(doc, o.from ?? "");
    add(doc, o.path, v);
  },
  copy: (doc, o) => add(doc, o.path, structuredClone(read(doc, o.from ?? ""))),
};

/** A patched copy of `doc`; throws 400 for a malformed patch, 422 for one that cannot apply. */
export function applyJsonPatch(doc: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw badRequest("the JSON patch is not an array of operations");
  const out = structuredClone(doc);
  for (const o of ops as Op[]) {
    if (typeof o?.op !== "string" || typeof o.path !== "string")
      throw badRequest("each JSON patch operation needs op and path");
    const apply = OPS[o.op];
    if (!apply) throw badRequest(`unexpected kind of JSON patch operation: ${o.op}`);
    apply(out, o);
  }
  return out;
}
