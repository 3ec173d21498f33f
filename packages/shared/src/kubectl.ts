// The kubectl commands the node page offers for one node: the Node, the reporter Pod on it and
// its logs, ready to paste into a shell. Pure: the dashboard builds them from where the chart
// runs the reporters (IPMASQ_REPORTER_NAMESPACE / IPMASQ_REPORTER_SELECTOR), the UI copies them.
import type { NodeOs } from "./protocol.js";

/** Where the reporter pods run: their namespace and the selector of the chart's labels. */
export interface ReporterPods {
  namespace: string;
  /** `key=value` terms joined by commas, without the component label (it depends on the OS). */
  selector: string;
}

export interface KubectlCommand {
  /** What it shows, e.g. "The reporter's logs". */
  title: string;
  command: string;
}

/** GET /api/nodes/:name/kubectl. `unavailable` says why the list is short or empty. */
export interface KubectlResponse {
  commands: KubectlCommand[];
  unavailable?: string;
}

/** The chart's component label of the reporter pods per OS (charts/ipmasq-dashboard). */
export const REPORTER_COMPONENT: Record<NodeOs, string> = {
  linux: "reporter",
  windows: "reporter-windows",
};

const PLAIN = /^[A-Za-z0-9._/=,:@+-]+$/;

/** One shell word: as is when it has no special characters, else single-quoted (POSIX sh). */
export function shellWord(s: string): string {
  return PLAIN.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The component label term of the reporter pods of a node of `os`; null (the OS not known
 * here): either reporter DaemonSet's, one runs per node.
 */
function componentTerm(os: NodeOs | null): string {
  if (os !== null) return `app.kubernetes.io/component=${REPORTER_COMPONENT[os]}`;
  return `app.kubernetes.io/component in (${REPORTER_COMPONENT.linux},${REPORTER_COMPONENT.windows})`;
}

/**
 * The commands for node `node` (its OS picks the reporter DaemonSet; null: not known, either
 * is selected); without `pods` only the Node's (the dashboard does not know where its
 * reporters run).
 */
export function kubectlCommands(
  node: string,
  os: NodeOs | null,
  pods: ReporterPods | null,
): KubectlCommand[] {
  const n = shellWord(node);
  const out: KubectlCommand[] = [
    { title: "The Node, with its Events", command: `kubectl describe node ${n}` },
    {
      title: "This dashboard's Events about it",
      command: `kubectl get events -A --field-selector involvedObject.kind=Node,involvedObject.name=${n},source=ipmasq-dashboard`,
    },
  ];
  if (!pods) return out;
  const ns = shellWord(pods.namespace);
  const sel = shellWord(`${pods.selector},${componentTerm(os)}`);
  const find = `kubectl get pods -n ${ns} -l ${sel} --field-selector spec.nodeName=${n}`;
  out.push(
    { title: "The reporter Pod on it", command: `${find} -o wide` },
    {
      title: "The reporter's logs",
      command: `kubectl logs -n ${ns} --tail=200 $(${find} -o name)`,
    },
  );
  return out;
}

/** The chart's name of the dashboard container's port (charts/ipmasq-dashboard). */
export const DASHBOARD_PORT_NAME = "http";

/**
 * The command that opens one dashboard replica (its pod) on http://localhost:8080: what a node
 * another replica holds needs for its rules, the packet tester and its history, which only the
 * holder has. Without the namespace (POD_NAMESPACE unset) kubectl's current one is used.
 */
export function replicaPortForward(replica: string, namespace: string | null): string {
  const ns = namespace === null ? "" : ` -n ${shellWord(namespace)}`;
  return `kubectl port-forward${ns} pod/${shellWord(replica)} 8080:${DASHBOARD_PORT_NAME}`;
}
