// CustomResourceDefinitions as apiextensions-apiserver serves them: a CRD stored through the API
// (apiextensions.k8s.io/v1) makes its served version's resource reachable at
// /apis/GROUP/VERSION/[namespaces/NS/]PLURAL, cluster-scoped or namespaced as `scope` says, with
// the `/status` subresource when declared, and its objects checked against the version's
// openAPIV3Schema (openapi.ts). Deleting the CRD deletes its objects, as the API server's
// finalizer does.
import { type ObjectStore, type ResourceInfo, STORED } from "./objects.js";
import { prune, validateSchema } from "./openapi.js";
import { invalid, type Obj, type StatusCause } from "./status.js";

export const CRD_INFO = STORED.find((r) => r.resource === "customresourcedefinitions")!;

/** The causes the API server gives for a CRD it refuses (a subset of ValidateCustomResourceDefinition). */
export function crdCauses(crd: Obj): StatusCause[] {
  const s = crd.spec ?? {};
  const causes: StatusCause[] = [];
  const need = (ok: boolean, field: string, message = "Required value") => {
    if (!ok) causes.push({ reason: "FieldValueRequired", field, message });
  };
  need(
    typeof s.group === "string" && s.group.includes("."),
    "spec.group",
    "should be a domain with at least one dot",
  );
  need(typeof s.names?.plural === "string", "spec.names.plural");
  need(typeof s.names?.kind === "string", "spec.names.kind");
  need(
    s.scope === "Cluster" || s.scope === "Namespaced",
    "spec.scope",
    "Unsupported value: must be Cluster or Namespaced",
  );
  const versions: Obj[] = s.versions ?? [];
  need(
    versions.filter((v) => v.storage).length === 1,
    "spec.versions",
    "must have exactly one version marked as storage version",
  );
  for (const [i, v] of versions.entries())
    need(
      v.schema?.openAPIV3Schema?.type === "object",
      `spec.versions[${i}].schema.openAPIV3Schema.type`,
      "must be object",
    );
  const name = `${s.names?.plural}.${s.group}`;
  need(crd.metadata?.name === name, "metadata.name", `must be spec.names.plural+"."+spec.group`);
  return causes;
}

export interface CustomResource extends ResourceInfo {
  schema: Obj;
  statusSubresource: boolean;
  crdName: string;
}

/** The served resources of every stored CRD, rebuilt from the store after each CRD write. */
export class CustomResources {
  private byKey = new Map<string, CustomResource>();

  get all(): CustomResource[] {
    return [...this.byKey.values()];
  }

  find(info: ResourceInfo): CustomResource | undefined {
    return this.byKey.get(`${info.group}/${info.version}/${info.resource}`);
  }

  /** Re-reads the CRDs; the objects of a resource no longer served are deleted. */
  sync(store: ObjectStore): void {
    const next = new Map<string, CustomResource>();
    for (const crd of store.list(CRD_INFO.resource, "", () => true))
      for (const r of resourcesOf(crd)) next.set(`${r.group}/${r.version}/${r.resource}`, r);
    for (const [key, old] of this.byKey)
      if (!next.has(key))
        for (const ns of store.namespacesOf(old.resource))
          for (const o of store.list(old.resource, ns, () => true))
            store.remove(old.resource, ns, o.metadata.name);
    this.byKey = next;
  }
}

function resourcesOf(crd: Obj): CustomResource[] {
  const s = crd.spec;
  return (s.versions as Obj[])
    .filter((v) => v.served)
    .map((v) => ({
      group: s.group,
      version: v.name,
      resource: s.names.plural,
      kind: s.names.kind,
      apiVersion: `${s.group}/${v.name}`,
      namespaced: s.scope === "Namespaced",
      schema: v.schema.openAPIV3Schema,
      statusSubresource: v.subresources?.status !== undefined,
      crdName: crd.metadata.name,
    }));
}

/** Prunes unknown fields and throws the API server's 422 when the object breaks the schema. */
export function admitCustomObject(r: CustomResource, obj: Obj): void {
  prune(obj, r.schema);
  const causes = validateSchema(obj, r.schema);
  if (causes.length > 0) throw invalid(`${r.kind}.${r.group}`, obj.metadata?.name ?? "", causes);
}
