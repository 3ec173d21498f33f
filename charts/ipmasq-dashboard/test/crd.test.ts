// The NodeMasquerade CRD (crds/nodemasquerades.yaml, issue 17): it parses, kube-apiserver would
// accept it (API schema, structural schema, names, printer columns), it says what the shared
// design (one per Node, cluster-scoped, status subresource, bounded fields) says, its health
// values are the dashboard's own, and Helm ships it. The checkers are shown able to fail.
//
// Run: npx vitest run --project integration charts/ipmasq-dashboard/test/crd.test.ts
import { NODE_STATUSES } from "@masq/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  type Crd,
  crdFile,
  crdViolations,
  type Schema,
  structuralViolations,
  unboundedFields,
} from "./helpers/crd.js";
import {
  CHART,
  ensureHelm,
  helm,
  type K8sObject,
  KUBE_VERSION,
  RELEASE,
} from "./helpers/render.js";
import { schemaErrors, unknownFields } from "./helpers/schema.js";

const crd = crdFile();
const version = crd.spec.versions[0]!;
const schema = version.schema!.openAPIV3Schema!;
const status = schema.properties!.status!;

describe("NodeMasquerade CRD", () => {
  it("is a valid apiextensions.k8s.io/v1 CustomResourceDefinition with no unknown field", () => {
    expect(schemaErrors(crd as unknown as K8sObject)).toEqual([]);
    expect(unknownFields(crd as unknown as K8sObject)).toEqual([]);
  });

  it("has a structural schema and names, versions and columns the API server accepts", () => {
    expect(crdViolations(crd)).toEqual([]);
  });

  it("bounds every string and list, so one object stays small", () => {
    expect(unboundedFields(schema)).toEqual([]);
    expect(status.properties!.drift!.properties!.reasons).toMatchObject({
      maxItems: 10,
      items: { maxLength: 200 },
    });
  });

  it("is the shared design's resource: names, scope, status subresource, columns", () => {
    expect(crd.metadata.name).toBe("nodemasquerades.ipmasq.dev");
    expect(crd.spec).toMatchObject({
      group: "ipmasq.dev",
      scope: "Cluster",
      names: {
        kind: "NodeMasquerade",
        plural: "nodemasquerades",
        singular: "nodemasquerade",
        shortNames: ["nmasq"],
      },
    });
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([
      ["v1alpha1", true, true],
    ]);
    expect(version.subresources).toEqual({ status: {} });
    const columns = (version.additionalPrinterColumns ?? []).filter((c) => !c.priority);
    expect(columns.map((c) => `${c.name}=${c.jsonPath}`)).toEqual([
      "Health=.status.health",
      "Applied=.status.appliedRevision",
      "Desired=.status.desiredRevision",
      "Replica=.status.replica",
      "Connected=.status.connected",
      "Age=.metadata.creationTimestamp",
    ]);
    expect(Object.keys(schema.properties!.spec!.properties!)).toEqual(["resyncRequest"]);
    expect(Object.keys(status.properties!).sort()).toEqual(
      [
        "replica",
        "connected",
        "health",
        "desiredRevision",
        "appliedRevision",
        "desiredConfig",
        "backend",
        "mode",
        "drift",
        "message",
        "observedAt",
        "resyncObserved",
        "healedDrift",
        "details",
        "conditions",
      ].sort(),
    );
  });

  it("keeps every field of the row a replica shows for a node held elsewhere (status.details)", () => {
    const details = status.properties!.details!;
    expect(Object.keys(details.properties!).sort()).toEqual(
      [
        "observedAt",
        "os",
        "kernel",
        "iptablesVersion",
        "reporterVersion",
        "critical",
        "warnings",
        "countsUnknown",
        "resyncCannotHeal",
      ].sort(),
    );
    expect(details.properties!.os!.enum).toEqual(["linux", "windows"]);
  });

  it("takes the dashboard's node statuses as they are, and revisions that may be null", () => {
    expect(status.properties!.health!.enum).toEqual([...NODE_STATUSES]);
    for (const k of ["desiredRevision", "appliedRevision"])
      expect(status.properties![k]).toMatchObject({ type: "integer", nullable: true });
  });

  it("keeps conditions in the metav1.Condition shape, one per type", () => {
    const conditions = status.properties!.conditions!;
    expect(conditions["x-kubernetes-list-type"]).toBe("map");
    expect(conditions["x-kubernetes-list-map-keys"]).toEqual(["type"]);
    const item = conditions.items as Schema;
    expect(item.required).toEqual(["type", "status", "reason", "message", "lastTransitionTime"]);
    expect(item.properties!.status!.enum).toEqual(["True", "False", "Unknown"]);
    const reason = new RegExp(item.properties!.reason!.pattern as string);
    for (const [desc, input, want] of [
      ["CamelCase", "ReporterConnected", true],
      ["empty", "", false],
      ["a sentence", "reporter connected", false],
    ] as const)
      expect(reason.test(input), desc).toBe(want);
  });

  describe("Helm", () => {
    beforeAll(() => ensureHelm());

    it("ships it from crds/ (installed before the templates, never templated)", () => {
      const args = [
        "template",
        RELEASE,
        CHART,
        "--namespace",
        "kube-system",
        "--kube-version",
        KUBE_VERSION,
      ];
      const withCrds = helm([...args, "--include-crds"]);
      expect(withCrds.status, withCrds.stderr).toBe(0);
      const kinds = parseAllDocuments(withCrds.stdout).map(
        (d) => (d.toJS() as K8sObject | null)?.kind,
      );
      expect(kinds.filter((k) => k === "CustomResourceDefinition")).toHaveLength(1);
      expect(helm(args).stdout).not.toContain("CustomResourceDefinition");
    });
  });

  describe("the checks can fail", () => {
    const broken = (change: (s: Schema, c: Crd) => void) => {
      const c = structuredClone(crd);
      change(c.spec.versions[0]!.schema!.openAPIV3Schema!, c);
      return crdViolations(c).join("\n");
    };
    const st = (s: Schema) => s.properties!.status!.properties!;
    it.each([
      {
        desc: "a field without a type",
        change: (s: Schema) => delete st(s).replica!.type,
        want: "replica.type: must not be empty for specified object fields",
      },
      {
        desc: "an array without items",
        change: (s: Schema) => delete st(s).conditions!.items,
        want: "conditions.items: must be specified",
      },
      {
        desc: "properties and additionalProperties",
        change: (s: Schema) => {
          st(s).drift!.additionalProperties = { type: "string" };
        },
        want: "mutual exclusive",
      },
      {
        desc: "a type inside anyOf",
        change: (s: Schema) => {
          st(s).health!.anyOf = [{ type: "string" }];
        },
        want: "anyOf[0].type: must be undefined",
      },
      {
        desc: "metadata restricted beyond the name",
        change: (s: Schema) => {
          s.properties!.metadata!.properties = { labels: { type: "object" } };
        },
        want: "anything other than name and generateName",
      },
      {
        desc: "a $ref",
        change: (s: Schema) => {
          st(s).drift!.$ref = "#/x";
        },
        want: "$ref: not supported",
      },
      {
        desc: "a misspelt keyword",
        change: (s: Schema) => {
          st(s).message!.maxlength = 10;
        },
        want: "maxlength: unknown keyword",
      },
      {
        desc: "a map list keyed by an optional field",
        change: (s: Schema) => {
          (st(s).conditions!.items as Schema).required = ["status"];
        },
        want: "map key type must be required",
      },
      {
        desc: "a column on a missing field",
        change: (_: Schema, c: Crd) => {
          c.spec.versions[0]!.additionalPrinterColumns![0]!.jsonPath = ".status.heath";
        },
        want: "column Health (.status.heath) is no field",
      },
      {
        desc: "a column of the wrong type",
        change: (_: Schema, c: Crd) => {
          c.spec.versions[0]!.additionalPrinterColumns![1]!.type = "date";
        },
        want: "column Applied is date, the field integer",
      },
      {
        desc: "a name that is not plural.group",
        change: (_: Schema, c: Crd) => {
          c.metadata.name = "nodemasquerade.ipmasq.dev";
        },
        want: "metadata.name must be nodemasquerades.ipmasq.dev",
      },
    ])("$desc", ({ change, want }) => {
      expect(broken(change)).toContain(want);
    });

    it("an unbounded string or list", () => {
      const s = structuredClone(schema);
      delete s.properties!.status!.properties!.message!.maxLength;
      delete s.properties!.status!.properties!.conditions!.maxItems;
      expect(unboundedFields(s)).toEqual([
        ".status.message: string without maxLength",
        ".status.conditions: array without maxItems",
      ]);
      expect(structuralViolations({ type: "string" })).toEqual([
        "openAPIV3Schema.type: must be object at the root",
      ]);
    });
  });
});
