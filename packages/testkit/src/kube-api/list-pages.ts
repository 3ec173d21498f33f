// Paged lists (`limit` / `continue`) as kube-apiserver serves them: items in key order
// (namespace, then name), every continuation served from the first page's snapshot (a
// consistent list, at the first page's resourceVersion), `remainingItemCount`, and continue
// tokens that expire: 410 with reason Expired once the snapshot is compacted. A real server
// compacts after about 5 minutes; here a test expires them (FakeKubeApi.expireContinueTokens,
// or a restart), and only the newest MAX_SNAPSHOTS lists can be continued.
import { ApiError, badRequest } from "./status.js";

type Obj = Record<string, unknown> & { metadata?: { namespace?: string; name?: string } };

const MAX_SNAPSHOTS = 64;

/** kube-apiserver's text for a continue token older than the compaction (storage/etcd3). */
export const CONTINUE_EXPIRED =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

interface Token {
  id: number;
  offset: number;
}

export interface Page {
  items: Obj[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

const key = (o: Obj) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

export class ListPages {
  private readonly snapshots = new Map<number, { rv: string; items: Obj[] }>();
  private nextId = 1;

  /** Whether the request pages (a limit or a continue token); otherwise list as before. */
  static paged(q: URLSearchParams): boolean {
    return q.has("continue") || Number(q.get("limit") ?? 0) > 0;
  }

  /** One page: from `all()` at `rv` for a first page, from its snapshot for a continuation. */
  page(q: URLSearchParams, all: () => Obj[], rv: string): Page {
    const limit = Number(q.get("limit") ?? 0);
    if (!Number.isInteger(limit) || limit < 0)
      throw badRequest(`limit: Invalid value: "${q.get("limit")}"`);
    const cont = q.get("continue");
    const at = cont ? this.continuation(cont) : this.snapshot(all, rv);
    const snap = this.snapshots.get(at.id)!;
    const end = limit > 0 ? Math.min(snap.items.length, at.offset + limit) : snap.items.length;
    const page: Page = { items: snap.items.slice(at.offset, end), resourceVersion: snap.rv };
    if (end < snap.items.length) {
      page.continue = Buffer.from(JSON.stringify({ id: at.id, offset: end })).toString("base64");
      page.remainingItemCount = snap.items.length - end;
    }
    return page;
  }

  /** Every continue token handed out so far now gets 410 Expired (a compaction). */
  expire(): void {
    this.snapshots.clear();
  }

  private snapshot(all: () => Obj[], rv: string): Token {
    const id = this.nextId++;
    const items = all().sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    this.snapshots.set(id, { rv, items });
    for (const old of this.snapshots.keys()) {
      if (this.snapshots.size <= MAX_SNAPSHOTS) break;
      this.snapshots.delete(old);
    }
    return { id, offset: 0 };
  }

  private continuation(text: string): Token {
    let t: Token;
    try {
      t = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as Token;
    } catch {
      throw badRequest(`continue key is not valid: ${text}`);
    }
    if (!Number.isInteger(t?.id) || !Number.isInteger(t?.offset))
      throw badRequest(`continue key is not valid: ${text}`);
    if (!this.snapshots.has(t.id)) throw new ApiError(410, "Expired", CONTINUE_EXPIRED);
    return t;
  }
}
