// Every replica follows the staged rollout's state (docs/scale-out.md step 4): one list-watch
// of the history ConfigMap (kube/list-watch.ts), handing on its `rollout.json` whenever that
// key's text changes (history writes change the object too: those are not passed on), with the
// fields kept apart for the previous release put back (staged-compat.ts: a follower needs
// `begunConfig`; it changes with no change of rollout.json when a revision number names another
// merge). The reader checks the state (zod); text that is not JSON is passed on as null, with a
// log line.
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { EXTRAS_KEY, joinRollout } from "../fleet/staged-compat.js";
import type { KubeClients } from "../kube/client.js";
import { ListWatcher } from "../kube/list-watch.js";
import { REQUEST_KEY, ROLLOUT_KEY } from "./kube-rollout.js";

/** Told the rollout state, and a move request, whenever either key's text changes. */
export interface RolloutListener {
  state(raw: unknown | null): void;
  request(raw: unknown | null): void;
}

export class KubeRolloutWatch {
  private readonly watcher: ListWatcher<V1ConfigMap>;
  /** Per key, the text last passed on, with what it was joined with (absent: nothing yet). */
  private readonly last = new Map<string, string | null>();

  constructor(
    o: { clients: KubeClients; namespace: string; name: string; log: Logger },
    private readonly listener: RolloutListener,
  ) {
    const fieldSelector = `metadata.name=${o.name}`;
    this.watcher = new ListWatcher<V1ConfigMap>({
      watch: o.clients.watch,
      path: `/api/v1/namespaces/${o.namespace}/configmaps`,
      fieldSelector,
      list: () => o.clients.core.listNamespacedConfigMap({ namespace: o.namespace, fieldSelector }),
      onList: (items) =>
        this.take(
          items.find((i) => i.metadata?.name === o.name),
          o.log,
        ),
      onEvent: (type, cm) => this.take(type === "DELETED" ? undefined : cm, o.log),
      log: o.log,
    });
  }

  start(): Promise<void> {
    return this.watcher.start();
  }

  stop(): Promise<void> {
    return this.watcher.stop();
  }

  private take(cm: V1ConfigMap | undefined, log: Logger): void {
    const extras = cm?.data?.[EXTRAS_KEY] ?? null;
    const state = (raw: unknown | null, text: string) =>
      this.listener.state(raw === null ? null : joinRollout(raw, text, extras).state);
    this.pass(cm, ROLLOUT_KEY, state, log, extras ?? "");
    this.pass(cm, REQUEST_KEY, (raw) => this.listener.request(raw), log);
  }

  /** Hands on `key`'s JSON when its text (or `joined`, the text it is joined with) changed. */
  private pass(
    cm: V1ConfigMap | undefined,
    key: string,
    to: (raw: unknown | null, text: string) => void,
    log: Logger,
    joined = "",
  ): void {
    const text = cm?.data?.[key] ?? null;
    const seen = text === null ? null : `${text}\0${joined}`;
    if (this.last.has(key) && seen === this.last.get(key)) return;
    this.last.set(key, seen);
    if (text === null) {
      to(null, "");
      return;
    }
    try {
      to(JSON.parse(text) as unknown, text);
    } catch (e) {
      log.warn({ err: e, key }, "not JSON on the history ConfigMap");
      to(null, "");
    }
  }
}
