// One function per dashboard API call, typed with the wire types the server builds
// (@masq/shared api.ts).
import {
  type BulkResyncResponse,
  type ConfigResponse,
  type ConfigWrite,
  defaultConfig,
  type EvaluateRequest,
  type EvaluateResponse,
  type HistoryResponse,
  type KubectlResponse,
  type LoginResponse,
  type MasqConfig,
  type Me,
  type NodeDetail,
  type NodesResponse,
  type RemovedResponse,
  type ResyncResponse,
  type RevisionCompareResponse,
  type RollbackImpactResponse,
  type RolloutStrategy,
  type SaveResponse,
  type SourceHistoryResponse,
  type SourceResponse,
  type SourceSaveResponse,
  type SourceValidateResponse,
  type StagedRolloutView,
  type ValidateResponse,
} from "@masq/shared";
import { api } from "./client";

const enc = encodeURIComponent;

/** GET /api/config as the editor uses it: `config` is never null (see normalizeConfig). */
export type EditableConfig = Omit<ConfigResponse, "config"> & { config: MasqConfig };

export const endpoints = {
  me: (signal?: AbortSignal) => api<Me>("/api/me", { signal }),
  login: (token: string) =>
    api<LoginResponse>("/api/login", { method: "POST", body: { token }, noAuthRedirect: true }),
  logout: () => api<unknown>("/api/logout", { method: "POST", noAuthRedirect: true }),
  nodes: (signal?: AbortSignal) => allNodes(signal),
  node: (name: string, signal?: AbortSignal) =>
    api<NodeDetail>(`/api/nodes/${enc(name)}`, { signal }),
  kubectl: (name: string, signal?: AbortSignal) =>
    api<KubectlResponse>(`/api/nodes/${enc(name)}/kubectl`, { signal }),
  evaluate: (name: string, body: EvaluateRequest) =>
    api<EvaluateResponse>(`/api/nodes/${enc(name)}/evaluate`, { method: "POST", body }),
  forgetNode: (name: string) =>
    api<RemovedResponse>(`/api/nodes/${enc(name)}`, { method: "DELETE" }),
  resyncNode: (name: string) =>
    api<ResyncResponse>(`/api/nodes/${enc(name)}/resync`, { method: "POST" }),
  resync: (body: { nodes?: string[]; status?: "drifted" }) =>
    api<BulkResyncResponse>("/api/resync", { method: "POST", body }),
  config: async (signal?: AbortSignal) =>
    normalizeConfig(await api<ConfigResponse>("/api/config", { signal })),
  validate: (body: { yaml: string } | { config: MasqConfig }) =>
    api<ValidateResponse>("/api/config/validate", { method: "POST", body }),
  saveConfig: (body: ConfigWrite) => api<SaveResponse>("/api/config", { method: "PUT", body }),
  history: (signal?: AbortSignal) => api<HistoryResponse>("/api/history", { signal }),
  sourceHistory: (signal?: AbortSignal) =>
    api<SourceHistoryResponse>("/api/history/sources", { signal }),
  source: (id: string, signal?: AbortSignal) =>
    api<SourceResponse>(`/api/config/sources/${enc(id)}`, { signal }),
  validateSource: (id: string, body: { yaml: string }) =>
    api<SourceValidateResponse>(`/api/config/sources/${enc(id)}/validate`, {
      method: "POST",
      body,
    }),
  saveSource: (id: string, body: { yaml: string; resourceVersion: string; message?: string }) =>
    api<SourceSaveResponse>(`/api/config/sources/${enc(id)}`, { method: "PUT", body }),
  /** Rolls back to the history entry `resourceVersion`; `current`: the stored resourceVersion. */
  rollback: (resourceVersion: string, current: string, strategy?: RolloutStrategy) =>
    api<SaveResponse>(`/api/history/${enc(resourceVersion)}/rollback`, {
      method: "POST",
      body: { resourceVersion: current, ...(strategy ? { strategy } : {}) },
    }),
  compare: (from: string, to: string, signal?: AbortSignal) =>
    api<RevisionCompareResponse>(`/api/history/compare?from=${enc(from)}&to=${enc(to)}`, {
      signal,
    }),
  /** What rolling back to `resourceVersion` changes on the nodes (computed by the server). */
  rollbackImpact: (resourceVersion: string, signal?: AbortSignal) =>
    api<RollbackImpactResponse>(`/api/history/${enc(resourceVersion)}/rollback-impact`, {
      signal,
    }),
  rollout: (signal?: AbortSignal) =>
    api<{ rollout: StagedRolloutView | null }>("/api/rollout", { signal }),
  rolloutAction: (action: "promote" | "retry" | "abort", body: { full?: boolean } = {}) =>
    // `requested`: asked on a replica that does not own the rollout, passed on to its owner (202).
    api<{ rollout: StagedRolloutView | null; requested?: string }>(`/api/rollout/${action}`, {
      method: "POST",
      body,
    }),
};

/** The stored text may be invalid with nothing valid before it: edit from the defaults then. */
export function normalizeConfig(r: ConfigResponse): EditableConfig {
  return { ...r, config: r.config ?? defaultConfig(r.flags) };
}

/** Nodes per request when the list is read page by page. */
const NODE_PAGE = 1000;

/** Every node, read page by page (GET /api/nodes pages large fleets); the last page's summary. */
export async function allNodes(signal?: AbortSignal): Promise<NodesResponse> {
  const nodes: NodesResponse["nodes"] = [];
  let cont: string | undefined;
  let last: NodesResponse | undefined;
  // Bounded: a cursor that never ends (a server bug) stops after 1,000 pages.
  for (let i = 0; i < 1000; i++) {
    const q = `limit=${NODE_PAGE}${cont ? `&continue=${enc(cont)}` : ""}`;
    const page = await api<NodesResponse>(`/api/nodes?${q}`, { signal });
    nodes.push(...page.nodes);
    last = page;
    cont = page.continue;
    if (!cont) break;
  }
  return { nodes, summary: last!.summary, serverTime: last!.serverTime };
}
