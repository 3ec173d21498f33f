import { describe, expect, it } from "vitest";
import { kubectlCommands, replicaPortForward, shellWord } from "./kubectl.js";

const PODS = {
  namespace: "kube-system",
  selector: "app.kubernetes.io/name=ipmasq-dashboard,app.kubernetes.io/instance=ipmasq",
};

describe("kubectlCommands", () => {
  it("gives the Node, its Events, the reporter Pod on it and its logs (Linux)", () => {
    expect(kubectlCommands("node-a.example.internal", "linux", PODS).map((c) => c.command)).toEqual(
      [
        "kubectl describe node node-a.example.internal",
        "kubectl get events -A --field-selector involvedObject.kind=Node,involvedObject.name=node-a.example.internal,source=ipmasq-dashboard",
        "kubectl get pods -n kube-system -l app.kubernetes.io/name=ipmasq-dashboard,app.kubernetes.io/instance=ipmasq,app.kubernetes.io/component=reporter --field-selector spec.nodeName=node-a.example.internal -o wide",
        "kubectl logs -n kube-system --tail=200 $(kubectl get pods -n kube-system -l app.kubernetes.io/name=ipmasq-dashboard,app.kubernetes.io/instance=ipmasq,app.kubernetes.io/component=reporter --field-selector spec.nodeName=node-a.example.internal -o name)",
      ],
    );
  });

  it("picks the Windows reporter DaemonSet's pods on a Windows node", () => {
    const [, , pod] = kubectlCommands("win-1", "windows", PODS);
    expect(pod?.command).toContain("app.kubernetes.io/component=reporter-windows ");
  });

  it("the OS not known here: the reporter Pod of either DaemonSet (one runs per node)", () => {
    const [, , pod, logs] = kubectlCommands("n-1", null, PODS);
    const either = "app.kubernetes.io/component in (reporter,reporter-windows)";
    expect(pod?.command).toContain(either);
    expect(logs?.command).toContain(either);
  });

  it("without knowing where reporters run, offers only the Node's commands", () => {
    expect(kubectlCommands("node-a", "linux", null).map((c) => c.title)).toEqual([
      "The Node, with its Events",
      "This dashboard's Events about it",
    ]);
  });
});

describe("shellWord", () => {
  const cases = [
    { desc: "a DNS name stays as is", input: "node-a.example", want: "node-a.example" },
    { desc: "a space is quoted", input: "a b", want: "'a b'" },
    { desc: "a quote is closed, escaped and reopened", input: "it's", want: "'it'\\''s'" },
    { desc: "command substitution is quoted", input: "$(reboot)", want: "'$(reboot)'" },
    { desc: "the empty word is two quotes", input: "", want: "''" },
  ];
  it.each(cases)("$desc", ({ input, want }) => expect(shellWord(input)).toBe(want));
});

describe("replicaPortForward", () => {
  const cases: { desc: string; input: [string, string | null]; want: string }[] = [
    {
      desc: "the replica's pod, by the chart's port name",
      input: ["ipmasq-dashboard-7d9f-abcde", "kube-system"],
      want: "kubectl port-forward -n kube-system pod/ipmasq-dashboard-7d9f-abcde 8080:http",
    },
    {
      desc: "namespace not known: kubectl's current one",
      input: ["dash-a", null],
      want: "kubectl port-forward pod/dash-a 8080:http",
    },
    {
      desc: "a name from the cluster is one shell word",
      input: ["a;b", "x y"],
      want: "kubectl port-forward -n 'x y' pod/'a;b' 8080:http",
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => expect(replicaPortForward(...input)).toBe(want));
});
