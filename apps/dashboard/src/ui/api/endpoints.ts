import { defaultConfig, type MasqConfig } from "@masq/shared";
import { api } from "./client";
import type {
  ConfigResponse,
  ConfigWrite,
  EvaluateResponse,
  HistoryResponse,
  Me,
  NodeDetail,
  NodesResponse,
  SaveResponse,
  ValidateResponse,
} from "./types";

const enc = encodeURIComponent;

export const endpoints = {
  me: (signal?: AbortSignal) => api<Me>("/api/me", { signal }),
  login: (token: string) =>
    api<{ role: string }>("/api/login", { method: "POST", body: { token }, noAuthRedirect: true }),
  logout: () => api<unknown>("/api/logout", { method: "POST", noAuthRedirect: true }),
  nodes: (signal?: AbortSignal) => allNodes(signal),
  node: (name: string, signal?: AbortSignal) =>
    api<NodeDetail>(`/api/nodes/${enc(name)}`, { signal }),
  evaluate: (name: string, ip: string) =>
    api<EvaluateResponse>(`/api/nodes/${enc(name)}/evaluate`, { method: "POST", body: { ip } }),
  resyncNode: (name: string) =>
    api<{ requestId: string }>(`/api/nodes/${enc(name)}/resync`, { method: "POST" }),
  resync: (body: { nodes?: string[]; status?: "drifted" }) =>
    api<{ nodes: string[]; skipped?: { name: string; reason: string }[] }>("/api/resync", {
      method: "POST",
      body,
    }),
  config: async (signal?: AbortSignal) =>
    normalizeConfig(await api<RawConfigResponse>("/api/config", { signal })),
  validate: (body: { yaml: string } | { config: MasqConfig }) =>
    api<ValidateResponse>("/api/config/validate", { method: "POST", body }),
  saveConfig: (body: ConfigWrite) => api<SaveResponse>("/api/config", { method: "PUT", body }),
  history: (signal?: AbortSignal) => api<HistoryResponse>("/api/history", { signal }),
  rollback: (revision: string, current: string) =>
    api<SaveResponse>(`/api/history/${enc(revision)}/rollback`, {
      method: "POST",
      body: { revision: current },
    }),
};

type RawConfigResponse = Omit<ConfigResponse, "config"> & { config: MasqConfig | null };

/** The stored text may be invalid with nothing valid before it: edit from the defaults then. */
export function normalizeConfig(r: RawConfigResponse): ConfigResponse {
  return { ...r, config: r.config ?? defaultConfig(r.flags) };
}

/** Nodes per request when the list is read page by page. */
const NODE_PAGE = 1000;

/** Every node, read page by page (GET /api/nodes pages large fleets); the last page's summary. */
export async function allNodes(signal?: AbortSignal): Promise<NodesResponse> {
  const nodes: NodesResponse["nodes"] = [];
  let cont: string | undefined;
  let summary: NodesResponse["summary"] | undefined;
  // Bounded: a cursor that never ends (a server bug) stops after 1,000 pages.
  for (let i = 0; i < 1000; i++) {
    const q = `limit=${NODE_PAGE}${cont ? `&continue=${enc(cont)}` : ""}`;
    const page = await api<NodesResponse>(`/api/nodes?${q}`, { signal });
    nodes.push(...page.nodes);
    summary = page.summary;
    cont = page.continue;
    if (!cont) break;
  }
  return { nodes, summary: summary! };
}
