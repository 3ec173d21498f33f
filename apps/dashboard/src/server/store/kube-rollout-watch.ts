// Every replica follows the staged rollout's state (docs/scale-out.md step 4): one list-watch
// of the history ConfigMap (kube/list-watch.ts), handing on its `rollout.json` whenever that
// key's text changes (history writes change the object too: those are not passed on). The
// reader checks the state (zod); text that is not JSON is passed on as null, with a log line.
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { Logger } from "pino";
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
  /** Per key, the text last passed on (absent: nothing yet). */
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
    this.pass(cm, ROLLOUT_KEY, (raw) => this.listener.state(raw), log);
    this.pass(cm, REQUEST_KEY, (raw) => this.listener.request(raw), log);
  }

  private pass(
    cm: V1ConfigMap | undefined,
    key: string,
    to: (raw: unknown | null) => void,
    log: Logger,
  ): void {
    const text = cm?.data?.[key] ?? null;
    if (this.last.has(key) && text === this.last.get(key)) return;
    this.last.set(key, text);
    if (text === null) {
      to(null);
      return;
    }
    try {
      to(JSON.parse(text) as unknown);
    } catch (e) {
      log.warn({ err: e, key }, "not JSON on the history ConfigMap");
      to(null);
    }
  }
}
