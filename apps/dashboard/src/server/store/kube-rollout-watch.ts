// Every replica follows the staged rollout's state (docs/scale-out.md step 4): one list-watch
// of the history ConfigMap (kube/list-watch.ts), handing on its `rollout.json` whenever that
// key's text changes (history writes change the object too: those are not passed on). The
// reader checks the state (zod); text that is not JSON is passed on as null, with a log line.
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { KubeClients } from "../kube/client.js";
import { ListWatcher } from "../kube/list-watch.js";
import { ROLLOUT_KEY } from "./kube-rollout.js";

export type RolloutListener = (state: unknown | null) => void;

export class KubeRolloutWatch {
  private readonly watcher: ListWatcher<V1ConfigMap>;
  /** The text last passed on (undefined: nothing yet). */
  private last: string | null | undefined;

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
    const text = cm?.data?.[ROLLOUT_KEY] ?? null;
    if (text === this.last) return;
    this.last = text;
    if (text === null) {
      this.listener(null);
      return;
    }
    try {
      this.listener(JSON.parse(text) as unknown);
    } catch (e) {
      log.warn({ err: e }, "the persisted rollout state is not JSON");
      this.listener(null);
    }
  }
}
