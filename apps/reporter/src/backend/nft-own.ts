// The agent's own nftables table in a read, checked against what the shared renderer writes for
// a config: its sets hold exactly the desired elements, its base chain hooks where it must, and
// its rules are the desired ones in order (as `nft -j` prints what the renderer wrote, checked
// on nftables 1.0.6). Used to verify an apply, to skip a write when nothing would change, and
// to plan what the transaction must delete. The dashboard's drift of a whole nftables node
// (other tables on the hook included) is the shared nft analysis; this is the writer's check.
import {
  type AgentFlags,
  type DesiredNftRule,
  type DesiredNftSet,
  type DesiredNftTable,
  type Difference,
  desiredNftTable,
  type MasqConfig,
  NFT_CHAIN,
  NFT_CHAIN_PRIORITY,
  NFT_TABLE,
  NFT_TABLE_FAMILY,
  type NftApplyPlan,
  nftElementText,
} from "@masq/shared";

interface OwnObjects {
  table: boolean;
  chains: Record<string, unknown>[];
  sets: Record<string, unknown>[];
  maps: Record<string, unknown>[];
  rules: { expr: unknown; comment?: string }[];
}

const ours = (o: Record<string, unknown>) => o.family === NFT_TABLE_FAMILY && o.table === NFT_TABLE;

/** The agent table's objects of a ruleset (`nftables` array entries). */
export function ownObjects(ruleset: readonly unknown[]): OwnObjects {
  const own: OwnObjects = { table: false, chains: [], sets: [], maps: [], rules: [] };
  for (const entry of ruleset) {
    const [kind, v] = Object.entries(entry as object)[0] ?? [];
    const o = v as Record<string, unknown> | undefined;
    if (!o) continue;
    if (kind === "table" && o.family === NFT_TABLE_FAMILY && o.name === NFT_TABLE) own.table = true;
    else if (!ours(o)) continue;
    else if (kind === "chain") own.chains.push(o);
    else if (kind === "set") own.sets.push(o);
    else if (kind === "map") own.maps.push(o);
    else if (kind === "rule" && o.chain === NFT_CHAIN)
      own.rules.push({ expr: o.expr, comment: o.comment as string | undefined });
  }
  return own;
}

/** An element as nft writes it (`a`, `a/len`, `a-b`); undefined for forms the agent never writes. */
export function elementText(e: unknown): string | undefined {
  if (typeof e === "string") return e;
  if (e === null || typeof e !== "object") return undefined;
  const o = e as { prefix?: { addr: string; len: number }; range?: [string, string] };
  if (o.prefix) return `${o.prefix.addr}/${o.prefix.len}`;
  if (Array.isArray(o.range)) return `${o.range[0]}-${o.range[1]}`;
  return undefined;
}

const MATCH = (left: unknown, right: unknown, op = "==") => ({ match: { op, left, right } });
const RETURN = { return: null };

/** A desired rule's expressions as `nft -j` lists them. */
export function expectedExpr(r: DesiredNftRule, sets: readonly DesiredNftSet[]): unknown[] {
  if (r.kind === "local-return")
    return [MATCH({ fib: { result: "type", flags: ["daddr"] } }, "local"), RETURN];
  if (r.kind === "ipv6-off") return [MATCH({ meta: { key: "nfproto" } }, "ipv6"), RETURN];
  if (r.kind === "set-return") {
    const family = sets.find((s) => s.name === r.set)?.family;
    const protocol = family === "ipv6" ? "ip6" : "ip";
    return [MATCH({ payload: { protocol, field: "daddr" } }, `@${r.set}`), RETURN];
  }
  const out: unknown[] = [];
  if (r.ports) out.push(MATCH({ meta: { key: "l4proto" } }, { set: ["tcp", "udp", "sctp"] }));
  if (r.numgen)
    out.push(
      MATCH({ numgen: { mode: "random", mod: r.numgen.mod, offset: 0 } }, r.numgen.below, "<"),
    );
  const [a, b] = (r.ports ?? "").split("-").map(Number);
  const port = r.ports ? (b === undefined || a === b ? a : { range: [a, b] }) : undefined;
  const args = {
    ...(port !== undefined ? { port } : {}),
    ...(r.fullyRandom ? { flags: "fully-random" } : {}),
  };
  out.push({ masquerade: Object.keys(args).length > 0 ? args : null });
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const diff = (
  kind: Difference["kind"],
  message: string,
  scope: Difference["scope"] = "ipv4",
  more: Partial<Difference> = {},
): Difference => ({ kind, severity: "critical", scope, message, ...more });

function setDifferences(own: OwnObjects, want: DesiredNftSet): Difference[] {
  const set = own.sets.find((s) => s.name === want.name);
  const scope = want.family;
  if (!set) return [diff("chain-missing", `set ${want.name} is missing`, scope)];
  const have = ((set.elem as unknown[] | undefined) ?? []).map(elementText);
  const wanted = want.ranges.map((r) => nftElementText(want.family, r));
  const missing = wanted.filter((w) => !have.includes(w));
  const extra = have.filter((h) => h === undefined || !wanted.includes(h));
  return [
    ...missing.map((m) =>
      diff("missing-cidr", `${want.name} lacks ${m}`, scope, {
        cidr: m,
        impact: `traffic to ${m} is masqueraded`,
      }),
    ),
    ...extra.map((x) =>
      diff(
        "unexpected-cidr",
        `${want.name} has ${x ?? "an element the agent never writes"}`,
        scope,
        {
          ...(x ? { cidr: x } : {}),
          impact: `traffic to ${x ?? "it"} keeps the pod address`,
        },
      ),
    ),
  ];
}

function chainDifferences(own: OwnObjects): Difference[] {
  const chain = own.chains.find((c) => c.name === NFT_CHAIN);
  if (!chain) return [diff("chain-missing", `chain ${NFT_CHAIN} is missing`)];
  const base = chain.type === "nat" && chain.hook === "postrouting";
  if (!base || chain.prio !== NFT_CHAIN_PRIORITY || chain.policy !== "accept")
    return [
      diff(
        "jump-modified",
        `chain ${NFT_CHAIN} is not a nat postrouting chain at priority srcnat, policy accept`,
      ),
    ];
  return [];
}

function ruleDifferences(own: OwnObjects, d: DesiredNftTable): Difference[] {
  const out: Difference[] = [];
  if (own.rules.length !== d.rules.length)
    out.push(
      diff(
        "foreign-rule",
        `${NFT_CHAIN} has ${own.rules.length} rules, the config needs ${d.rules.length}`,
      ),
    );
  d.rules.forEach((r, i) => {
    const have = own.rules[i];
    if (have && (!same(have.expr, expectedExpr(r, d.sets)) || have.comment !== r.comment))
      out.push(
        diff("foreign-rule", `rule ${i + 1} of ${NFT_CHAIN} is not the agent's ${r.kind} rule`),
      );
  });
  return out;
}

/**
 * What differs between the agent's table in `ruleset` and the desired one (empty: exact), as
 * drift differences: the table or a set missing, elements missing or extra, the chain's hook,
 * rules other than the desired ones, objects that are not the agent's.
 */
export function ownTableDifferences(
  config: MasqConfig,
  flags: AgentFlags,
  ruleset: readonly unknown[],
): Difference[] {
  const own = ownObjects(ruleset);
  if (!own.table)
    return [diff("chain-missing", `table ${NFT_TABLE_FAMILY} ${NFT_TABLE} is missing`)];
  const d = desiredNftTable(config, flags);
  const extra = plan(own, d.sets);
  const foreign = [...extra.deleteChains, ...extra.deleteSets, ...extra.deleteMaps].map((n) =>
    diff("foreign-rule", `${n} in the agent's table is not the agent's`, "ipv4", {
      severity: "warning",
    }),
  );
  return [
    ...chainDifferences(own),
    ...d.sets.flatMap((s) => setDifferences(own, s)),
    ...ruleDifferences(own, d),
    ...foreign,
  ];
}

/** The differences as one line each (apply errors, logs). */
export function ownTableProblems(
  config: MasqConfig,
  flags: AgentFlags,
  ruleset: readonly unknown[],
): string[] {
  return ownTableDifferences(config, flags, ruleset).map((d) => d.message);
}

function plan(own: OwnObjects, sets: readonly DesiredNftSet[]): NftApplyPlan {
  const setChanged = own.sets.some((s) => {
    const want = sets.find((w) => w.name === s.name);
    return want !== undefined && (s.type !== want.type || !same(s.flags, ["interval"]));
  });
  return {
    recreate: setChanged || chainDifferences(own).some((d) => d.kind === "jump-modified"),
    deleteChains: own.chains.map((c) => c.name as string).filter((n) => n !== NFT_CHAIN),
    deleteSets: own.sets
      .map((s) => s.name as string)
      .filter((n) => !sets.some((w) => w.name === n)),
    deleteMaps: own.maps.map((m) => m.name as string),
  };
}

/** What the apply transaction must do besides writing the table (shared render's plan). */
export function planNftApply(
  config: MasqConfig,
  flags: AgentFlags,
  ruleset: readonly unknown[],
): NftApplyPlan {
  return plan(ownObjects(ruleset), desiredNftTable(config, flags).sets);
}
