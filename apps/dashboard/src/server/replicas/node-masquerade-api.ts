// The NodeMasquerade calls the dashboard makes, through client-node's CustomObjectsApi: status
// and spec as JSON merge patches (a resourceVersion in the patch is the API server's
// optimistic-concurrency precondition: 409 when the object moved on), create when missing.
import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import {
  NODE_MASQUERADE,
  type NodeMasqueradeStatus,
  type ResyncRequest,
} from "./node-masquerade.js";

export interface NodeMasqueradeApi {
  /** Merge-patches status; `resourceVersion`: only if the object is still at that version. */
  patchStatus(name: string, status: NodeMasqueradeStatus, resourceVersion?: string): Promise<void>;
  /** Creates an empty NodeMasquerade named after the node (409 when it exists). */
  create(name: string): Promise<void>;
  patchResyncRequest(name: string, request: ResyncRequest): Promise<void>;
  list(): Promise<{ items: unknown[]; metadata?: { resourceVersion?: string } }>;
  remove(name: string): Promise<void>;
}

const coords = {
  group: NODE_MASQUERADE.group,
  version: NODE_MASQUERADE.version,
  plural: NODE_MASQUERADE.plural,
};
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function nodeMasqueradeApi(kc: KubeConfig): NodeMasqueradeApi {
  const api = kc.makeApiClient(CustomObjectsApi);
  return {
    async patchStatus(name, status, resourceVersion) {
      const metadata = resourceVersion ? { metadata: { resourceVersion } } : {};
      await api.patchClusterCustomObjectStatus(
        { ...coords, name, body: { ...metadata, status } },
        merge,
      );
    },
    async create(name) {
      const body = {
        apiVersion: NODE_MASQUERADE.apiVersion,
        kind: NODE_MASQUERADE.kind,
        metadata: { name },
        spec: {},
      };
      await api.createClusterCustomObject({ ...coords, body });
    },
    async patchResyncRequest(name, request) {
      await api.patchClusterCustomObject(
        { ...coords, name, body: { spec: { resyncRequest: request } } },
        merge,
      );
    },
    async remove(name) {
      await api.deleteClusterCustomObject({ ...coords, name });
    },
    async list() {
      return (await api.listClusterCustomObject({ ...coords })) as {
        items: unknown[];
        metadata?: { resourceVersion?: string };
      };
    },
  };
}
