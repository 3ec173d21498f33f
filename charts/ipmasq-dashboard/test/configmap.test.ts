// The ip-masq-agent ConfigMap: created in upstream's format only when asked and never
// overwritten (lookup-guarded; under `helm template` it is always rendered, so the guard is
// asserted on the template source), mounted like upstream when the reporters share its namespace.
//
// Run: npx vitest run --project integration charts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_NON_MASQ_CIDRS, parseConfigText } from "@masq/shared";
import { describe, expect, it } from "vitest";
import {
  CHART,
  container,
  env,
  envValue,
  type K8sObject,
  mountOf,
  type Workload,
} from "./helpers/render.js";
import { renderedVariants, VARIANTS } from "./helpers/variants.js";

const manifest = renderedVariants();

describe("ipmasq-dashboard chart", () => {
  describe.each(VARIANTS)("$name", (v) => {
    const m = () => manifest(v.name);

    it("creates the upstream-format ip-masq-agent ConfigMap with the default CIDRs only when asked, and keeps it", () => {
      const cm = m().find<K8sObject & { data: Record<string, string> }>(
        "ConfigMap",
        (c) => c.metadata.name === "ip-masq-agent",
      );
      if (!v.expect.createsConfigMap) {
        expect(cm).toBeUndefined();
        return;
      }
      expect(cm?.metadata.namespace).toBe(v.expect.cmNamespace);
      expect(cm?.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
      expect(Object.keys(cm!.data)).toEqual(["config"]);
      const parsed = parseConfigText(cm!.data.config!);
      expect(parsed.ok ? [] : parsed.errors).toEqual([]);
      if (!parsed.ok) return;
      expect(parsed.warnings).toEqual([]);
      expect(parsed.config.nonMasqueradeCIDRs).toEqual([...DEFAULT_NON_MASQ_CIDRS]);
      expect(parsed.config.masqLinkLocal).toBe(false);
      expect(parsed.config.resyncInterval).toBe("60s");
    });

    it("mounts the ConfigMap like upstream only when the reporters share its namespace and there are no config sources", () => {
      for (const w of [m().reporter, m().windowsReporter].filter(
        (x): x is Workload => x !== undefined,
      )) {
        const c = container(w);
        const vol = (w.spec.template.spec.volumes ?? []).find((x) => x.configMap);
        if (!v.expect.mountsConfig) {
          expect(vol).toBeUndefined();
          expect(env(c, "IPMASQ_CONFIG_FILE")).toBeUndefined();
          continue;
        }
        expect(vol?.configMap).toEqual({
          name: "ip-masq-agent",
          optional: true,
          items: [{ key: "config", path: "ip-masq-agent" }],
        });
        expect(`${mountOf(c, vol!.name)?.mountPath}/ip-masq-agent`).toBe(
          envValue(c, "IPMASQ_CONFIG_FILE"),
        );
        expect(envValue(c, "IPMASQ_CONFIG_FILE")).toBe("/etc/config/ip-masq-agent");
      }
    });
  });

  it("guards the ip-masq-agent ConfigMap with lookup so an existing one is never overwritten", () => {
    const src = readFileSync(join(CHART, "templates", "ip-masq-agent-configmap.yaml"), "utf8");
    expect(src).toMatch(
      /\$existing := lookup "v1" "ConfigMap" \$namespace \.Values\.ipMasqAgent\.name/,
    );
    expect(src).toMatch(/\{\{-? if not \$existing \}\}/);
    expect(src).toContain("helm.sh/resource-policy: keep");
  });
});
