// What the global setup starts and the specs use: tokens, node names, namespaces, helpers to
// read and break a node's real chain with iptables inside its network namespace.
import { execFileSync } from "node:child_process";
import { natRules } from "@masq/testkit/netns";

export const TOKENS = {
  admin: "e2e-admin-GqW3v9yLr0bTz8pK1mXcN5sHd2fJ7uAe",
  viewer: "e2e-viewer-Yb4kP0wQz7nRt2cLm9xVs5gHj1dFa8Ue",
  reporter: "e2e-reporter-Tn6mC2xWq8pLz0vBr4kYs9dGh3jFe7Ua",
} as const;

/** Every namespace this suite creates starts with this prefix and is always deleted. */
export const NETNS_PREFIX = "ime-";
/** Node names that are not prefixes of each other (row lookups use them as patterns). */
export const NODES = ["ime-alpha", "ime-bravo", "ime-charlie"] as const;
export type NodeName = (typeof NODES)[number];

export const CHAIN = "IP-MASQ-AGENT";

export function baseUrl(): string {
  const u = process.env.IME_BASE_URL;
  if (!u)
    throw new Error(
      "IME_BASE_URL is not set: run through playwright.config.ts (its global setup starts the dashboard)",
    );
  return u;
}

/** The dashboard's data dir (file store), where `ip-masq-*` files are config sources. */
export function dataDir(): string {
  const d = process.env.IME_DATA_DIR;
  if (!d) throw new Error("IME_DATA_DIR is not set: run through playwright.config.ts");
  return d;
}

/**
 * Where the processes of this run log (kept under test-results/e2e-logs after the run): a spec's
 * extra node logs there too, so a failure in CI keeps every reporter's log.
 */
export function logsDir(): string {
  const d = process.env.IME_LOGS_DIR;
  if (!d) throw new Error("IME_LOGS_DIR is not set: run through playwright.config.ts");
  return d;
}

/** `iptables -t nat -S IP-MASQ-AGENT` inside the node's namespace ("" when the chain is gone). */
export function chainOf(ns: string): string {
  return natRules(ns, CHAIN).join("\n");
}

export function listOurNetns(): string[] {
  const out = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((n) => n.startsWith(NETNS_PREFIX));
}

/** Authenticated JSON API call with the admin (or given) bearer token. */
export async function apiGet<T>(path: string, token: string = TOKENS.admin): Promise<T> {
  const res = await fetch(baseUrl() + path, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface NodeRow {
  name: string;
  status: string;
  summary: string;
}

export async function nodeStatuses(): Promise<Record<string, string>> {
  const r = await apiGet<{ nodes: NodeRow[] }>("/api/nodes");
  return Object.fromEntries(r.nodes.map((n) => [n.name, n.status]));
}
