// Every NodeMasquerade, kept current by one list-watch of the cluster-scoped collection (the
// informer pattern of kube/list-watch.ts). Objects that do not parse (another writer, an older
// schema) are kept out with a log line: the fleet view shows what it can vouch for.
import type { KubernetesObject, Watch } from "@kubernetes/client-node";
import { zodReason } from "@masq/shared";
import type { Logger } from "pino";
import { type EventType, ListWatcher, type WatchHealth } from "../kube/list-watch.js";
import { NODE_MASQUERADE, type NodeMasquerade, nodeMasqueradeSchema } from "./node-masquerade.js";
import type { NodeMasqueradeApi } from "./node-masquerade-api.js";

export class NodeMasqueradeWatch {
  private readonly objects = new Map<string, NodeMasquerade>();
  private readonly watcher: ListWatcher<KubernetesObject>;
  private listener: (names: string[]) => void = () => undefined;

  constructor(o: { api: NodeMasqueradeApi; watch: Pick<Watch, "watch">; log: Logger }) {
    this.watcher = new ListWatcher<KubernetesObject>({
      watch: o.watch,
      path: `/apis/${NODE_MASQUERADE.group}/${NODE_MASQUERADE.version}/${NODE_MASQUERADE.plural}`,
      fieldSelector: "",
      list: async () => (await o.api.list()) as { items: KubernetesObject[] },
      onList: (items) => this.replaceAll(items, o.log),
      onEvent: (type, obj) => this.apply(type, obj, o.log),
      log: o.log,
    });
  }

  /** `names` changed (added, modified or deleted). */
  onChange(listener: (names: string[]) => void): void {
    this.listener = listener;
  }

  get(name: string): NodeMasquerade | undefined {
    return this.objects.get(name);
  }

  values(): IterableIterator<NodeMasquerade> {
    return this.objects.values();
  }

  get health(): WatchHealth {
    return this.watcher.health;
  }

  start(): Promise<void> {
    return this.watcher.start();
  }

  /** Lists (again until it succeeds) and watches in the background. */
  startInBackground(): void {
    this.watcher.startInBackground();
  }

  stop(): Promise<void> {
    return this.watcher.stop();
  }

  private replaceAll(items: KubernetesObject[], log: Logger): void {
    const before = new Set(this.objects.keys());
    this.objects.clear();
    for (const i of items) this.store(i, log);
    const changed = new Set([...before, ...this.objects.keys()]);
    this.listener([...changed]);
  }

  private apply(type: EventType, obj: KubernetesObject, log: Logger): void {
    const name = obj.metadata?.name;
    if (!name) return;
    if (type === "DELETED") this.objects.delete(name);
    else this.store(obj, log);
    this.listener([name]);
  }

  private store(obj: KubernetesObject, log: Logger): void {
    const parsed = nodeMasqueradeSchema.safeParse(obj);
    if (parsed.success) this.objects.set(parsed.data.metadata.name, parsed.data);
    else {
      this.objects.delete(obj.metadata?.name ?? "");
      log.warn(
        { node: obj.metadata?.name, err: zodReason(parsed.error) },
        "NodeMasquerade ignored: it does not parse",
      );
    }
  }
}
