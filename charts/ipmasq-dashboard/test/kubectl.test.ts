// The node page's kubectl commands find the reporter pods the chart really runs: the
// dashboard's IPMASQ_REPORTER_NAMESPACE / IPMASQ_REPORTER_SELECTOR, with the component label
// the shared kubectl.ts adds per OS, select the reporter DaemonSets' pods in their namespace.
//
// Run: npx vitest run --project integration charts/ipmasq-dashboard/test/kubectl.test.ts
import { kubectlCommands, REPORTER_COMPONENT } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { container, envValue, type Workload } from "./helpers/render.js";
import { renderedVariants, VARIANTS } from "./helpers/variants.js";

const manifest = renderedVariants();

/** Does a `k=v,k=v` selector select these labels? */
const selects = (selector: string, labels: Record<string, string>) =>
  selector.split(",").every((t) => {
    const [k, v] = t.split("=") as [string, string];
    return labels[k] === v;
  });

describe.each(VARIANTS)("kubectl commands: $name", (v) => {
  it("select the reporter pods of each OS, and no other workload's", () => {
    const m = manifest(v.name);
    const d = container(m.dashboard);
    const namespace = envValue(d, "IPMASQ_REPORTER_NAMESPACE")!;
    const selector = envValue(d, "IPMASQ_REPORTER_SELECTOR")!;
    const workloads = [...m.all<Workload>("DaemonSet"), ...m.all<Workload>("Deployment")];
    for (const os of ["linux", "windows"] as const) {
      const full = `${selector},app.kubernetes.io/component=${REPORTER_COMPONENT[os]}`;
      const hits = workloads.filter((w) => selects(full, w.spec.template.metadata.labels));
      const want = os === "linux" ? [m.reporter] : v.expect.windows ? [m.windowsReporter] : [];
      expect(hits.map((w) => w.metadata.name)).toEqual(want.map((w) => w!.metadata.name));
      for (const w of hits) expect(w.metadata.namespace).toBe(namespace);
      const cmd = kubectlCommands("node-a", os, { namespace, selector });
      expect(cmd.at(-2)?.command).toContain(`-n ${namespace} -l ${full} `);
    }
  });
});
