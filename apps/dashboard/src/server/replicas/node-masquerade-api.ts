// The NodeMasquerade calls the dashboard makes, through client-node's CustomObjectsApi: status
// and spec as JSON merge patches (a resourceVersion in the patch is the API server's
// optimistic-concurrency precondition: 409 when the object moved on), create when missing.
import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { statusCode } from "../kube/client.js";
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
  /** Reads one object from the API server (a GET, fresher than the watch); null: none (404). */
  get?(name: string): Promise<unknown | null>;
}

const coords = {
  group: NODE_MASQUERADE.group,
  version: NODE_MASQUERADE.version,
  plural: NODE_MASQUERADE.plural,
};
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Objects per list page: client-go's pager default, so 65,000 nodes are 130 small answers. */
export const LIST_PAGE = 500;
/** A list whose continue token expired (410) starts over at most this many times. */
const LIST_RESTARTS = 3;

type ListPage = {
  items: unknown[];
  metadata?: { resourceVersion?: string; continue?: string };
};

/**
 * Every object, one page at a time (limit/continue, as client-go's ListPager): the answer's
 * resourceVersion is the pages' snapshot, from which the watch resumes. A continue token that
 * expired (410 Expired: the snapshot was compacted meanwhile) starts the list over, for a
 * consistent list rather than client-go's unpaged fallback.
 */
export async function listPaged(
  page: (cont: string | undefined) => Promise<unknown>,
): Promise<{ items: unknown[]; metadata: { resourceVersion?: string } }> {
  for (let attempt = 0; ; attempt++) {
    const items: unknown[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    try {
      do {
        const p = (await page(cont)) as ListPage;
        items.push(...p.items);
        rv = p.metadata?.resourceVersion;
        cont = p.metadata?.continue || undefined;
      } while (cont);
      return { items, metadata: { resourceVersion: rv } };
    } catch (e) {
      if (cont === undefined || statusCode(e) !== 410 || attempt >= LIST_RESTARTS) throw e;
    }
  }
}

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
    async get(name) {
      try {
        return (await api.getClusterCustomObject({ ...coords, name })) as unknown;
      } catch (e) {
        if (statusCode(e) === 404) return null;
        throw e;
      }
    },
    list: () =>
      listPaged((_continue) =>
        api.listClusterCustomObject({ ...coords, limit: LIST_PAGE, _continue }),
      ),
  };
}
