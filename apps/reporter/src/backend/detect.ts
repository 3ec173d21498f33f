// Which iptables backend holds the node's rules, decided much as kubernetes-sigs/iptables-wrappers
// decides (the kubelet's hint chain in the mangle table of nf_tables, then of legacy; without a
// hint, the backend holding the agent's own chain when only one does; then the backend with more
// rules; nf_tables on a tie), but cheaply: the nat built-in chains
// are counted instead of saving every table, and legacy tables are only looked at when the
// kernel lists them (/proc/net/ip_tables_names), because reading a legacy table creates it.
// Run at start and on a slow cadence, never per snapshot.
import { BACKEND_LABELS, type Family, type IptablesBackend } from "@masq/shared";
import { parseIptablesVersion } from "./iptables-version.js";
import { createLister, type Run } from "./list.js";

export const IPTABLES_BACKENDS: readonly IptablesBackend[] = ["nf_tables", "legacy"];

/** The chains the kubelet creates in mangle for this purpose (iptables-wrappers looks for both). */
export const KUBELET_HINT_CHAINS = ["KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY"];
const NAT_BUILTINS = ["PREROUTING", "OUTPUT", "POSTROUTING"];

export interface FamilyTools {
  /** `iptables-nft`, `ip6tables-legacy`, or plain `iptables` when only that one exists. */
  list: string;
  restore: string;
}

/** The programs of one backend and family; `suffix` is "-nft", "-legacy" or "". */
export function familyTools(suffix: string, family: Family): FamilyTools {
  const base = family === "ipv4" ? "iptables" : "ip6tables";
  return { list: `${base}${suffix}`, restore: `${base}${suffix}-restore` };
}

export const BACKEND_SUFFIX: Record<IptablesBackend, string> = {
  nf_tables: "-nft",
  legacy: "-legacy",
};

export interface NatCounts {
  /** `-A` rules in nat PREROUTING, OUTPUT and POSTROUTING. */
  rules: number;
  postrouting: number;
  agentChain: boolean;
  /** POSTROUTING jumps to the agent's chain: the rules that act are here. */
  agentJump: boolean;
}

export interface BackendProbe {
  backend: IptablesBackend;
  /** Program suffix that runs this backend; undefined: not installed. */
  suffix?: string;
  /** e.g. "v1.8.9". */
  version?: string;
  /** The kubelet's hint chain is in this backend's mangle table (either family). */
  hint: boolean;
  /** Per family; absent: the backend holds no nat table for it. */
  nat: Partial<Record<Family, NatCounts>>;
  /** Legacy: the tables the kernel holds (any family). */
  tables?: string[];
}

export interface BackendChoice {
  /** Where the reporter writes. */
  primary: IptablesBackend;
  /** Per family the backends read: the primary first, then any other holding nat rules there. */
  read: Record<Family, IptablesBackend[]>;
  /** Why the primary, in words. */
  reason: string;
}

const natRules = (p: BackendProbe) =>
  Object.values(p.nat).reduce((sum, n) => sum + (n?.rules ?? 0), 0);

function primaryOf(probes: readonly BackendProbe[]): { primary: IptablesBackend; reason: string } {
  const installed = probes.filter((p) => p.suffix !== undefined);
  if (installed.length === 1)
    return {
      primary: installed[0]!.backend,
      reason: `only ${BACKEND_LABELS[installed[0]!.backend]} is installed`,
    };
  for (const b of IPTABLES_BACKENDS) {
    if (installed.find((p) => p.backend === b)?.hint)
      return { primary: b, reason: `the kubelet's hint chain is in ${BACKEND_LABELS[b]}` };
  }
  // The agent's own chain (jumped to) before counts: two hand-added rules in the other backend
  // outnumbered the one jump to it and moved the node's writes away from its rules.
  const holding = installed.filter((p) => Object.values(p.nat).some((n) => n?.agentJump));
  if (holding.length === 1)
    return {
      primary: holding[0]!.backend,
      reason: `the agent's own chain is in ${BACKEND_LABELS[holding[0]!.backend]}`,
    };
  const [nft, legacy] = IPTABLES_BACKENDS.map((b) => installed.find((p) => p.backend === b));
  const counts = `${natRules(legacy!)} nat rules in ${BACKEND_LABELS.legacy}, ${natRules(nft!)} in ${BACKEND_LABELS.nf_tables}`;
  return natRules(legacy!) > natRules(nft!)
    ? { primary: "legacy", reason: counts }
    : { primary: "nf_tables", reason: counts };
}

/** Decides where to write and what to read; `forced` is `--iptables nft|legacy`. */
export function chooseBackends(
  probes: readonly BackendProbe[],
  families: readonly Family[],
  forced?: IptablesBackend,
): BackendChoice {
  if (!probes.some((p) => p.suffix !== undefined))
    throw new Error("neither iptables-nft nor iptables-legacy runs on this node");
  const { primary, reason } = forced
    ? { primary: forced, reason: `--iptables ${forced === "nf_tables" ? "nft" : "legacy"}` }
    : primaryOf(probes);
  const read = {} as Record<Family, IptablesBackend[]>;
  for (const f of families) {
    // Every other backend whose nat table exists is read, even while it holds no rules: a rule
    // added there later acts on packets at once, and waiting for the next detection would hide
    // it (reading an existing table creates nothing; a legacy table that does not exist is
    // never read, since that would create it).
    const others = probes.filter(
      (p) => p.backend !== primary && p.suffix !== undefined && p.nat[f] !== undefined,
    );
    read[f] = [primary, ...others.map((p) => p.backend)];
  }
  return { primary, read, reason };
}

/** Tables the kernel holds for legacy iptables (`/proc/net/ip_tables_names` text). */
export function legacyTableNames(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

/** The suffix whose programs run `backend` ("-nft", or "" when plain iptables is that backend). */
async function suffixFor(
  run: Run,
  backend: IptablesBackend,
): Promise<{ suffix: string; version: string } | undefined> {
  for (const suffix of [BACKEND_SUFFIX[backend], ""]) {
    const r = await run([`iptables${suffix}`, "-V"]);
    if (r.code !== 0) continue;
    try {
      const v = parseIptablesVersion(r.stdout);
      if (v.backend === backend) return { suffix, version: v.version };
    } catch {}
  }
  return undefined;
}

function jumpsTo(read: ReturnType<ListReads["get"]>, chain: string): boolean {
  return (
    read?.kind === "ok" && read.lines.some((l) => l.split(/\s+/).join(" ").endsWith(`-j ${chain}`))
  );
}

type ListReads = Awaited<ReturnType<ReturnType<typeof createLister>>>;

async function natCounts(run: Run, tools: FamilyTools, agentChain: string): Promise<NatCounts> {
  const reads = await createLister(run, tools, "nat")([...NAT_BUILTINS, agentChain]);
  const rules = (name: string) => {
    const r = reads.get(name);
    return r?.kind === "ok" ? r.lines.filter((l) => l.startsWith("-A ")).length : 0;
  };
  return {
    rules: NAT_BUILTINS.reduce((sum, n) => sum + rules(n), 0),
    postrouting: rules("POSTROUTING"),
    agentChain: reads.get(agentChain)?.kind === "ok",
    agentJump: jumpsTo(reads.get("POSTROUTING"), agentChain),
  };
}

/** The legacy tables of `family` that exist, read without loading any. */
async function legacyTables(run: Run, family: Family) {
  const file = `/proc/net/${family === "ipv4" ? "ip" : "ip6"}_tables_names`;
  return legacyTableNames((await run(["cat", file])).stdout);
}

/** What one backend holds, read without creating tables it does not have. */
export async function probeBackend(
  run: Run,
  backend: IptablesBackend,
  families: readonly Family[],
  agentChain: string,
): Promise<BackendProbe> {
  const found = await suffixFor(run, backend);
  const probe: BackendProbe = { backend, hint: false, nat: {} };
  if (!found) return probe;
  probe.suffix = found.suffix;
  probe.version = found.version;
  for (const family of families) {
    const tools = familyTools(found.suffix, family);
    const tables = backend === "legacy" ? await legacyTables(run, family) : undefined;
    if (tables) probe.tables = [...new Set([...(probe.tables ?? []), ...tables])];
    // Listed, not saved: iptables-nft-save -t mangle loads every table (~0.6 s of CPU at 100k rules).
    if (!probe.hint && (!tables || tables.has("mangle"))) {
      const hints = await createLister(run, tools, "mangle")(KUBELET_HINT_CHAINS);
      probe.hint = [...hints.values()].some((r) => r.kind === "ok");
    }
    if (!tables || tables.has("nat")) probe.nat[family] = await natCounts(run, tools, agentChain);
  }
  return probe;
}
