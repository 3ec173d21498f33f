// Where a process's bytes per node are: two V8 heap snapshots of the dashboard (fleet.bench.ts
// with FLEET_BENCH_HEAP_SNAPSHOT=DIR: no node, and N nodes after the saves) compared by
// constructor — plain objects named by their first properties, so a node record, an event and
// a pending push are told apart — and the N-node one's retained sizes (dominator tree, weak
// edges ignored, as DevTools computes them) for each kind that has about one per node.
//   npx tsx --max-old-space-size=8192 bench/heap-by-constructor.ts EMPTY AFTER N [SHAPE]
// SHAPE (e.g. hello,events) picks objects holding those properties and splits their retained
// size by property: what a node record keeps through each field (0 when shared with others).
import { readFileSync } from "node:fs";

interface Heap {
  /** Per node: class key, name (a string's text), self size, first edge, edge count. */
  key: string[];
  name: string[];
  self: Float64Array;
  firstEdge: Uint32Array;
  edgeCount: Uint32Array;
  /** Per edge: type, name (property name or index), target node. */
  edgeType: string[];
  edgeName: string[];
  edgeTo: Uint32Array;
}

interface RawSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
  /** object index (in node fields), script id, line, column: where each closure was made. */
  locations?: number[];
}

/** Properties named in a plain object's key, at most this many: enough to tell shapes apart. */
const KEY_PROPERTIES = 4;

function load(file: string): Heap {
  const raw = JSON.parse(readFileSync(file, "utf8")) as RawSnapshot;
  const { meta } = raw.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [nType, nName, nSelf, nEdges] = ["type", "name", "self_size", "edge_count"].map((f) =>
    meta.node_fields.indexOf(f),
  ) as [number, number, number, number];
  const [eType, eName, eTo] = ["type", "name_or_index", "to_node"].map((f) =>
    meta.edge_fields.indexOf(f),
  ) as [number, number, number];
  const count = raw.nodes.length / nf;
  const heap: Heap = {
    key: new Array(count),
    name: new Array(count),
    self: new Float64Array(count),
    firstEdge: new Uint32Array(count),
    edgeCount: new Uint32Array(count),
    edgeType: new Array(raw.edges.length / ef),
    edgeName: new Array(raw.edges.length / ef),
    edgeTo: new Uint32Array(raw.edges.length / ef),
  };
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  let e = 0;
  for (let i = 0; i < count; i++) {
    const at = i * nf;
    heap.self[i] = raw.nodes[at + nSelf]!;
    heap.firstEdge[i] = e;
    heap.edgeCount[i] = raw.nodes[at + nEdges]!;
    for (let k = 0; k < heap.edgeCount[i]!; k++, e++) {
      const t = edgeTypes[raw.edges[e * ef + eType]!]!;
      const name = raw.edges[e * ef + eName]!;
      heap.edgeType[e] = t;
      heap.edgeName[e] = t === "element" || t === "hidden" ? String(name) : raw.strings[name]!;
      heap.edgeTo[e] = raw.edges[e * ef + eTo]! / nf;
    }
    heap.name[i] = raw.strings[raw.nodes[at + nName]!]!;
    heap.key[i] = classKey(types[raw.nodes[at + nType]!]!, heap.name[i]!);
  }
  for (let i = 0; i < count; i++) if (heap.key[i] === "Object") heap.key[i] = plainKey(heap, i);
  nameClosures(heap, raw.locations ?? [], nf);
  return heap;
}

/** A closure named by where its function is: `(closure NAME file:line)`. */
function nameClosures(h: Heap, locations: number[], nf: number): void {
  for (let k = 0; k + 3 < locations.length; k += 4) {
    const i = locations[k]! / nf;
    if (!h.key[i]?.startsWith("(closure")) continue;
    const script = edgeTo(h, edgeTo(h, i, "shared"), "script_or_debug_info");
    const short = script === -1 ? "?" : h.name[script]!.split("/").slice(-2).join("/");
    h.key[i] = `${h.key[i]!.slice(0, -1)} ${short}:${locations[k + 2]! + 1})`;
  }
}

/** The node an edge named `name` of node `i` points to; -1 when none. */
function edgeTo(h: Heap, i: number, name: string): number {
  if (i === -1) return -1;
  const end = h.firstEdge[i]! + h.edgeCount[i]!;
  for (let e = h.firstEdge[i]!; e < end; e++) if (h.edgeName[e] === name) return h.edgeTo[e]!;
  return -1;
}

function classKey(type: string, name: string): string {
  if (type === "object" || type === "native") return name;
  if (type.endsWith("string")) return "(string)";
  if (type === "closure") return `(closure ${name || "anonymous"})`;
  if (type === "array") return `(array ${name})`;
  if (type === "hidden" || type === "object shape") return `(system ${name.split(" ")[0]})`;
  return `(${type})`;
}

/** A plain object named by its first properties: `{name,hello,connected,lastSeenAt}`. */
function plainKey(h: Heap, i: number): string {
  const names: string[] = [];
  const end = h.firstEdge[i]! + h.edgeCount[i]!;
  for (let e = h.firstEdge[i]!; e < end && names.length < KEY_PROPERTIES; e++)
    if (h.edgeType[e] === "property" && h.edgeName[e] !== "__proto__") names.push(h.edgeName[e]!);
  return `{${names.join(",")}}`;
}

/** Count and self size per class key. */
function byKey(h: Heap): Map<string, { count: number; self: number }> {
  const out = new Map<string, { count: number; self: number }>();
  for (let i = 0; i < h.key.length; i++) {
    const s = out.get(h.key[i]!) ?? { count: 0, self: 0 };
    s.count++;
    s.self += h.self[i]!;
    out.set(h.key[i]!, s);
  }
  return out;
}

const strong = (h: Heap, e: number) => h.edgeType[e] !== "weak" && h.edgeType[e] !== "shortcut";

/** Depth-first postorder from node 0 over strong edges: `order` numbers, -1 unreachable. */
function postorder(h: Heap): { order: Int32Array; post: number[] } {
  const order = new Int32Array(h.key.length).fill(-1);
  const post: number[] = [];
  const stack: number[] = [0];
  const next = new Uint32Array(h.key.length);
  order[0] = -2; // on the stack
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    const end = h.firstEdge[v]! + h.edgeCount[v]!;
    let e = h.firstEdge[v]! + next[v]!;
    while (e < end && (!strong(h, e) || order[h.edgeTo[e]!] !== -1)) e++;
    next[v] = e - h.firstEdge[v]! + 1;
    if (e < end) {
      order[h.edgeTo[e]!] = -2;
      stack.push(h.edgeTo[e]!);
    } else {
      order[v] = post.length;
      post.push(v);
      stack.pop();
    }
  }
  return { order, post };
}

/** Immediate dominators from node 0 (Cooper, Harvey and Kennedy's iteration). */
function dominators(h: Heap): Int32Array {
  const { order, post } = postorder(h);
  const preds = predecessors(h, order);
  const idom = new Int32Array(h.key.length).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  const meet = (v: number) => {
    let d = -1;
    for (const p of preds[v] ?? []) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
    return d;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = post.length - 2; k >= 0; k--) {
      const v = post[k]!;
      const d = meet(v);
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  return idom;
}

function predecessors(h: Heap, order: Int32Array): number[][] {
  const preds: number[][] = new Array(h.key.length);
  for (let v = 0; v < h.key.length; v++) {
    if (order[v]! < 0) continue;
    const end = h.firstEdge[v]! + h.edgeCount[v]!;
    for (let e = h.firstEdge[v]!; e < end; e++) {
      if (!strong(h, e)) continue;
      const to = h.edgeTo[e]!;
      if (to === v) continue;
      const list = preds[to];
      if (list) list.push(v);
      else preds[to] = [v];
    }
  }
  return preds;
}

/** Retained size of every node: its self size plus what it dominates. */
function retained(h: Heap, idom: Int32Array): Float64Array {
  const out = Float64Array.from(h.self);
  // Children before parents: by depth in the dominator tree, deepest first.
  const depth = new Int32Array(h.key.length).fill(-1);
  depth[0] = 0;
  const depthOf = (v: number): number => {
    const path: number[] = [];
    while (depth[v] === -1 && idom[v] !== -1) {
      path.push(v);
      v = idom[v]!;
    }
    let d = depth[v] === -1 ? 0 : depth[v]!;
    for (let k = path.length - 1; k >= 0; k--) depth[path[k]!] = ++d;
    return d;
  };
  const live: number[] = [];
  for (let v = 1; v < h.key.length; v++) if (idom[v] !== -1 && depthOf(v) > 0) live.push(v);
  live.sort((a, b) => depth[b]! - depth[a]!);
  for (const v of live) out[idom[v]!]! += out[v]!;
  return out;
}

const kb = (bytes: number, n: number) => (bytes / n / 1024).toFixed(2);

function constructorTable(empty: Heap, after: Heap, n: number): void {
  const a = byKey(empty);
  const b = byKey(after);
  const rows = [...b].map(([k, s]) => {
    const z = a.get(k) ?? { count: 0, self: 0 };
    return { k, count: s.count - z.count, self: s.self - z.self };
  });
  rows.sort((x, y) => y.self - x.self);
  const total = rows.reduce((t, r) => t + r.self, 0);
  console.log(`\n## Self size growth by constructor (${n} nodes): ${kb(total, n)} KB/node\n`);
  console.log("| constructor | objects per node | bytes per node | KB per node |");
  console.log("|---|---|---|---|");
  for (const r of rows.slice(0, 40))
    console.log(
      `| ${r.k} | ${(r.count / n).toFixed(2)} | ${(r.self / n).toFixed(0)} | ${kb(r.self, n)} |`,
    );
}

function retainedTable(h: Heap, ret: Float64Array, n: number): void {
  const sum = new Map<string, { count: number; retained: number }>();
  for (let i = 0; i < h.key.length; i++) {
    const s = sum.get(h.key[i]!) ?? { count: 0, retained: 0 };
    s.count++;
    s.retained += ret[i]!;
    sum.set(h.key[i]!, s);
  }
  const rows = [...sum].filter(([, s]) => s.count >= 0.9 * n && s.count <= 60 * n);
  rows.sort((x, y) => y[1].retained - x[1].retained);
  console.log(
    `\n## Retained size of kinds with ~1–60 per node (${n} nodes; nested kinds overlap)\n`,
  );
  console.log("| constructor | objects per node | retained KB per node |");
  console.log("|---|---|---|");
  for (const [k, s] of rows.slice(0, 40))
    console.log(`| ${k} | ${(s.count / n).toFixed(2)} | ${kb(s.retained, n)} |`);
}

/** Node i's properties (and internal fields) by name → target node. */
function propertiesOf(h: Heap, i: number): Map<string, number> {
  const end = h.firstEdge[i]! + h.edgeCount[i]!;
  const props = new Map<string, number>();
  for (let e = h.firstEdge[i]!; e < end; e++)
    if (h.edgeType[e] === "property" || h.edgeType[e] === "internal")
      props.set(h.edgeName[e]!, h.edgeTo[e]!);
  return props;
}

/** Objects with every property of `shape`: their retained size split by property. */
function shapeTable(h: Heap, idom: Int32Array, ret: Float64Array, shape: string[], n: number) {
  const byProp = new Map<string, number>();
  let objects = 0;
  let selfSum = 0;
  for (let i = 0; i < h.key.length; i++) {
    const props = propertiesOf(h, i);
    if (!shape.every((p) => props.has(p))) continue;
    objects++;
    selfSum += h.self[i]!;
    for (const [p, to] of props) if (idom[to] === i) byProp.set(p, (byProp.get(p) ?? 0) + ret[to]!);
  }
  console.log(`\n## {${shape.join(",")}}: ${objects} objects, self ${kb(selfSum, n)} KB/node\n`);
  console.log("| property | retained KB per node (only what this object alone holds) |");
  console.log("|---|---|");
  for (const [p, r] of [...byProp].sort((x, y) => y[1] - x[1]).slice(0, 30))
    console.log(`| ${p} | ${kb(r, n)} |`);
}

/**
 * A partition of what per-node objects hold: the children, in the dominator tree, of the
 * containers holding at least n / 2 of them (a Map's table of every node record, the sockets'
 * handle roots), with their retained sizes. The rows do not overlap.
 */
function holdersTable(h: Heap, idom: Int32Array, ret: Float64Array, n: number): void {
  const children = new Uint32Array(h.key.length);
  for (let i = 1; i < h.key.length; i++) if (idom[i]! >= 0) children[idom[i]!]!++;
  const rows = new Map<string, { count: number; retained: number }>();
  for (let i = 1; i < h.key.length; i++) {
    const d = idom[i]!;
    if (d < 0 || children[d]! < n / 2) continue;
    const holder =
      d > 0 && idom[d]! >= 0 ? `${h.key[idom[d]!]}${edgeNameTo(h, idom[d]!, d)} → ` : "";
    const at =
      d === 0 ? "(several roots)" : `${h.key[d]}${edgeNameTo(h, d, i).replace(/\.\d+$/, ".[i]")}`;
    const row = `${holder}${at} → ${h.key[i]}`;
    const s = rows.get(row) ?? { count: 0, retained: 0 };
    s.count++;
    s.retained += ret[i]!;
    rows.set(row, s);
  }
  const sorted = [...rows].sort((x, y) => y[1].retained - x[1].retained);
  console.log("\n## What containers of per-node objects hold (retained, no overlap)\n");
  console.log("| container → kind | objects per node | retained KB per node |");
  console.log("|---|---|---|");
  for (const [k, s] of sorted.slice(0, 25))
    console.log(`| ${k} | ${(s.count / n).toFixed(2)} | ${kb(s.retained, n)} |`);
}

/**
 * The dominator subtree of every object named `kind`, by path of kinds (edge names where direct)
 * down to `depth` levels: what one connection's socket or one node record holds, per node.
 */
function treeTable(h: Heap, idom: Int32Array, ret: Float64Array, kind: string, n: number) {
  const paths = new Map<string, number>();
  for (let i = 1; i < h.key.length; i++) {
    const path = pathBelow(h, idom, i, kind);
    if (path !== undefined) paths.set(path, (paths.get(path) ?? 0) + ret[i]!);
  }
  console.log(
    `\n## Held by ${kind} (dominator subtree, ${TREE_DEPTH} levels; a row includes its children)\n`,
  );
  for (const [k, r] of [...paths].sort((x, y) => y[1] - x[1]).filter(([, r]) => r / n >= 40))
    console.log(`- ${k}: ${kb(r, n)} KB/node`);
}

const TREE_DEPTH = 3;

/** Node i's path of edges and kinds up to an object named `kind` within TREE_DEPTH levels. */
function pathBelow(h: Heap, idom: Int32Array, i: number, kind: string): string | undefined {
  const path: string[] = [];
  let v = i;
  for (let up = 0; up <= TREE_DEPTH && v > 0; up++) {
    if (h.key[v] === kind) return up > 0 ? path.join(" →") : undefined;
    path.unshift(`${edgeNameTo(h, idom[v]!, v).replace(/\.\d+$/, ".[i]")} ${h.key[v]}`);
    v = idom[v]!;
  }
  return undefined;
}

/** Who holds the objects of each of the `top` kinds that grew most: their dominators' kinds. */
function ownersTable(empty: Heap, after: Heap, idom: Int32Array, n: number, top: number): void {
  const a = byKey(empty);
  const grown = [...byKey(after)]
    .map(([k, s]) => ({ k, self: s.self - (a.get(k)?.self ?? 0) }))
    .sort((x, y) => y.self - x.self)
    .slice(0, top);
  for (const { k } of grown) {
    const owners = new Map<string, { count: number; self: number }>();
    for (let i = 0; i < after.key.length; i++) {
      if (after.key[i] !== k || idom[i] === -1) continue;
      const o = `${after.key[idom[i]!]}${edgeNameTo(after, idom[i]!, i)}`;
      const s = owners.get(o) ?? { count: 0, self: 0 };
      s.count++;
      s.self += after.self[i]!;
      owners.set(o, s);
    }
    console.log(`\n### ${k}: held by (immediate dominator, and its edge when direct)\n`);
    const rows = [...owners].sort((x, y) => y[1].self - x[1].self).slice(0, 8);
    for (const [o, s] of rows)
      console.log(
        `- ${o}: ${(s.count / n).toFixed(2)} per node, ${(s.self / n).toFixed(0)} B/node`,
      );
  }
}

/** ` .name` of the edge from `from` to `to`, or "" when the dominator holds it indirectly. */
function edgeNameTo(h: Heap, from: number, to: number): string {
  const end = h.firstEdge[from]! + h.edgeCount[from]!;
  for (let e = h.firstEdge[from]!; e < end; e++)
    if (h.edgeTo[e] === to) return ` .${h.edgeName[e]}`;
  return "";
}

const [emptyFile, afterFile, nText, shapeText] = process.argv.slice(2);
if (!emptyFile || !afterFile || !nText) {
  console.error("usage: heap-by-constructor.ts EMPTY.heapsnapshot AFTER.heapsnapshot N [SHAPE]");
  process.exit(2);
}
const n = Number(nText);
const after = load(afterFile);
const empty = load(emptyFile);
constructorTable(empty, after, n);
const idom = dominators(after);
ownersTable(empty, after, idom, n, 16);
const ret = retained(after, idom);
retainedTable(after, ret, n);
holdersTable(after, idom, ret, n);
for (const kind of [
  "system / Context",
  "Socket",
  "WebSocket",
  "IncomingMessage",
  "{name,hello,connected,lastSeenAt}",
])
  treeTable(after, idom, ret, kind, n);
for (const shape of (shapeText ?? "hello,events").split(";"))
  shapeTable(after, idom, ret, shape.split(","), n);
