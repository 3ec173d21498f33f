// The value sets the chart is rendered with (ci/*.yaml), rendered once per test file.
import { beforeAll } from "vitest";
import { ensureHelm, type Manifest, render, type Variant } from "./render.js";

export const VARIANTS: (Variant & {
  expect: {
    cmNamespace: string;
    windows: boolean;
    observe: boolean;
    mountsConfig: boolean;
    createsConfigMap: boolean;
    /** auth.reporterNodeFromPod (and dashboard.recreateConfigMaps) set. */
    extraGrants: boolean;
    /** dashboard.replicas (a PodDisruptionBudget above 1). */
    replicas: number;
  };
})[] = [
  {
    name: "default values",
    namespace: "kube-system",
    valuesFiles: [],
    expect: {
      cmNamespace: "kube-system",
      windows: false,
      observe: false,
      mountsConfig: false, // config sources (the default prefix): the ConfigMap alone is not the merge
      createsConfigMap: true,
      extraGrants: false,
      replicas: 1,
    },
  },
  {
    name: "windows + observe mode + resync",
    namespace: "kube-system",
    valuesFiles: ["windows-observe-values.yaml"],
    expect: {
      cmNamespace: "kube-system",
      windows: true,
      observe: true,
      mountsConfig: true,
      createsConfigMap: true,
      extraGrants: false,
      replicas: 1,
    },
  },
  {
    name: "other namespace, adopted ConfigMap",
    namespace: "ipmasq-system",
    valuesFiles: ["other-namespace-values.yaml"],
    expect: {
      cmNamespace: "kube-system",
      windows: false,
      observe: false,
      mountsConfig: false,
      createsConfigMap: false,
      extraGrants: true,
      replicas: 2,
    },
  },
];

export const rendered = new Map<string, Manifest>();

/** Renders every variant before the file's tests (helm found first); the manifest by name. */
export function renderedVariants(): (name: string) => Manifest {
  beforeAll(() => {
    ensureHelm();
    for (const v of VARIANTS) rendered.set(v.name, render(v));
  });
  return (name) => rendered.get(name)!;
}
