// What kube-apiserver checks when a CustomResourceDefinition is created, as functions returning
// violations: the structural-schema rules of apiextensions-apiserver
// (pkg/apiserver/schema/validation.go, ValidateStructural), the v1 API validation of the schema
// (pkg/apis/apiextensions/validation: keywords v1 refuses, properties vs additionalProperties,
// list-type map keys), the names and versions, and the printer columns. Plus the chart's own
// rule: every string and array is bounded, so one object stays small at 65,000 nodes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { CHART, type Json } from "./render.js";

export type Schema = Json & {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema | Schema[];
  required?: string[];
  enum?: unknown[];
  format?: string;
  maxLength?: number;
  maxItems?: number;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
};

/** The keywords a JSONSchemaProps has (from @kubernetes/client-node's model of it). */
const KEYWORDS = new Set(k8s.V1JSONSchemaProps.getAttributeTypeMap().map((a) => a.baseName));
/** Keywords v1 CRDs refuse (specStandardValidatorV3). */
const UNSUPPORTED = [
  "id",
  "$schema",
  "$ref",
  "additionalItems",
  "patternProperties",
  "definitions",
  "dependencies",
];
/** What a schema under allOf/anyOf/oneOf/not may not say (validateNestedValueValidation). */
const NOT_NESTED = [
  "type",
  "additionalProperties",
  "default",
  "title",
  "description",
  "nullable",
  "externalDocs",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-validations",
];
const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);
type Level = "root" | "item" | "field";

/** Violations of `s` (at `path`) against the v1 API validation and the structural rules. */
export function structuralViolations(
  s: Schema,
  path = "openAPIV3Schema",
  level: Level = "root",
): string[] {
  return [
    ...keywordViolations(s, path),
    ...typeViolations(s, path, level),
    ...additionalPropertiesViolations(s, path, level),
    ...childViolations(s, path),
    ...(level === "root" ? rootViolations(s, path) : []),
    ...listTypeViolations(s, path),
  ];
}

function keywordViolations(s: Schema, path: string): string[] {
  const v = Object.keys(s)
    .filter((k) => !KEYWORDS.has(k))
    .map((k) => `${path}.${k}: unknown keyword`);
  for (const k of UNSUPPORTED) if (k in s) v.push(`${path}.${k}: not supported by v1 CRDs`);
  if (s.uniqueItems === true) v.push(`${path}.uniqueItems: cannot be true`);
  return v;
}

const WHERE: Record<Level, string> = {
  root: "at the root",
  item: "for specified array items",
  field: "for specified object fields",
};

/** A type everywhere (but int-or-string and preserved unknown fields), object at the root. */
function typeViolations(s: Schema, path: string, level: Level): string[] {
  if (s.type !== undefined && !TYPES.has(s.type)) return [`${path}.type: ${s.type} is not a type`];
  const untyped = s["x-kubernetes-int-or-string"] || s["x-kubernetes-preserve-unknown-fields"];
  if (!s.type && !untyped) return [`${path}.type: must not be empty ${WHERE[level]}`];
  if (level === "root" && s.type && s.type !== "object")
    return [`${path}.type: must be object at the root`];
  return [];
}

function additionalPropertiesViolations(s: Schema, path: string, level: Level): string[] {
  const extra = s.additionalProperties;
  if (extra === undefined) return [];
  const v: string[] = [];
  if (level === "root") v.push(`${path}.additionalProperties: must not be used at the root`);
  if (Object.keys(s.properties ?? {}).length > 0)
    v.push(
      `${path}.additionalProperties: additionalProperties and properties are mutual exclusive`,
    );
  if (typeof extra === "object")
    v.push(...structuralViolations(extra, `${path}.additionalProperties`, "field"));
  return v;
}

/** Items, properties and the value validations under allOf/anyOf/oneOf/not. */
function childViolations(s: Schema, path: string): string[] {
  const v: string[] = [];
  if (s.type === "array" && s.items === undefined) v.push(`${path}.items: must be specified`);
  if (Array.isArray(s.items)) v.push(`${path}.items: must be a schema object and not an array`);
  else if (s.items) v.push(...structuralViolations(s.items, `${path}.items`, "item"));
  for (const [k, sub] of Object.entries(s.properties ?? {}))
    v.push(...structuralViolations(sub, `${path}.properties.${k}`, "field"));
  for (const j of ["allOf", "anyOf", "oneOf"] as const)
    for (const [i, sub] of (s[j] ?? []).entries())
      v.push(...nestedViolations(sub, `${path}.${j}[${i}]`));
  if (s.not) v.push(...nestedViolations(s.not, `${path}.not`));
  return v;
}

/** Value validations under a junctor: no structure of their own, and never about metadata. */
function nestedViolations(s: Schema, path: string): string[] {
  const v: string[] = [];
  for (const k of NOT_NESTED)
    if (k in s) v.push(`${path}.${k}: must be undefined to be structural`);
  if (s.properties?.metadata)
    v.push(`${path}.properties.metadata: must not be specified in a nested context`);
  for (const [k, sub] of Object.entries(s.properties ?? {}))
    v.push(...nestedViolations(sub, `${path}.properties.${k}`));
  if (s.items && !Array.isArray(s.items)) v.push(...nestedViolations(s.items, `${path}.items`));
  return v;
}

/** At the root: apiVersion and kind are strings; metadata restricts name/generateName at most. */
function rootViolations(s: Schema, path: string): string[] {
  const v: string[] = [];
  for (const k of ["apiVersion", "kind"])
    if (s.properties?.[k] && s.properties[k]!.type !== "string")
      v.push(`${path}.properties.${k}.type: must be string`);
  const meta = s.properties?.metadata;
  if (meta) {
    if (meta.type !== "object") v.push(`${path}.properties.metadata.type: must be object`);
    const rest = Object.keys(meta).filter((k) => k !== "type" && k !== "properties");
    const props = Object.keys(meta.properties ?? {}).filter(
      (k) => k !== "name" && k !== "generateName",
    );
    if (rest.length + props.length > 0)
      v.push(
        `${path}.properties.metadata: must not specify anything other than name and generateName`,
      );
  }
  return v;
}

/** x-kubernetes-list-type map: object items whose keys are required scalars. */
function listTypeViolations(s: Schema, path: string): string[] {
  const type = s["x-kubernetes-list-type"];
  const keys = s["x-kubernetes-list-map-keys"];
  if (type === undefined)
    return keys ? [`${path}: x-kubernetes-list-map-keys needs list-type map`] : [];
  if (!["atomic", "set", "map"].includes(type)) return [`${path}.x-kubernetes-list-type: ${type}`];
  if (type !== "map")
    return keys ? [`${path}: x-kubernetes-list-map-keys needs list-type map`] : [];
  const items = Array.isArray(s.items) ? undefined : s.items;
  if (items?.type !== "object" || !keys?.length)
    return [`${path}: a map list needs object items and map keys`];
  return keys.flatMap((k) => {
    const key = items.properties?.[k];
    if (!key || !["string", "integer", "number", "boolean"].includes(key.type ?? ""))
      return [`${path}: map key ${k} must be a scalar field of the items`];
    return items.required?.includes(k) || "default" in key
      ? []
      : [`${path}: map key ${k} must be required`];
  });
}

/** Strings and arrays without a bound (an enum, a date-time format or maxLength; maxItems). */
export function unboundedFields(s: Schema, path = ""): string[] {
  const v: string[] = [];
  if (s.type === "string" && s.maxLength === undefined && !s.enum && s.format !== "date-time")
    v.push(`${path || "."}: string without maxLength`);
  if (s.type === "array" && s.maxItems === undefined)
    v.push(`${path || "."}: array without maxItems`);
  if (s.items && !Array.isArray(s.items)) v.push(...unboundedFields(s.items, `${path}[]`));
  // apiVersion and kind are the API server's to check.
  for (const [k, sub] of Object.entries(s.properties ?? {}))
    if (path !== "" || !["apiVersion", "kind"].includes(k))
      v.push(...unboundedFields(sub, `${path}.${k}`));
  return v;
}

/** The schema at a printer column's simple JSONPath (.a.b), or undefined. */
export function schemaAt(s: Schema, jsonPath: string): Schema | undefined {
  if (!/^(\.[A-Za-z][A-Za-z0-9]*)+$/.test(jsonPath)) return undefined;
  let at: Schema | undefined = s;
  for (const part of jsonPath.slice(1).split(".")) at = at?.properties?.[part];
  return at;
}

export interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    scope: string;
    names: {
      kind: string;
      listKind?: string;
      plural: string;
      singular?: string;
      shortNames?: string[];
    };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: Json; scale?: Json };
      additionalPrinterColumns?: {
        name: string;
        type: string;
        jsonPath: string;
        priority?: number;
      }[];
      schema?: { openAPIV3Schema?: Schema };
    }[];
  };
}

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** What the column type shows, per schema type (CustomResourceColumnDefinition.type). */
const COLUMN_TYPES: Record<string, string[]> = {
  string: ["string"],
  integer: ["integer"],
  number: ["number", "integer"],
  boolean: ["boolean"],
  date: ["string"],
};
/** ObjectMeta fields a column may show (the schema leaves metadata to the API server). */
const META_PATHS = new Set([
  ".metadata.name",
  ".metadata.creationTimestamp",
  ".metadata.generation",
]);

/** The CRD's names, versions and columns as ValidateCustomResourceDefinition checks them. */
export function crdViolations(crd: Crd): string[] {
  const v = nameViolations(crd);
  const versions = crd.spec.versions;
  if (versions.filter((x) => x.storage).length !== 1)
    v.push("exactly one version must be the storage version");
  for (const ver of versions) {
    const schema = ver.schema?.openAPIV3Schema;
    if (!schema) v.push(`${ver.name}: openAPIV3Schema is required in v1`);
    else
      v.push(
        ...structuralViolations(schema, `${ver.name}.openAPIV3Schema`),
        ...columnViolations(ver.name, schema, ver.additionalPrinterColumns ?? []),
      );
  }
  return v;
}

function nameViolations(crd: Crd): string[] {
  const v: string[] = [];
  const { group, names, scope } = crd.spec;
  if (crd.apiVersion !== "apiextensions.k8s.io/v1" || crd.kind !== "CustomResourceDefinition")
    v.push(`${crd.apiVersion} ${crd.kind}: not an apiextensions.k8s.io/v1 CRD`);
  if (crd.metadata.name !== `${names.plural}.${group}`)
    v.push(`metadata.name must be ${names.plural}.${group}`);
  if (!group.includes(".")) v.push("spec.group must be a domain with at least one dot");
  const labels = [
    names.kind,
    names.listKind,
    names.plural,
    names.singular,
    ...(names.shortNames ?? []),
  ];
  for (const n of labels)
    if (n !== undefined && !DNS1035.test(n.toLowerCase()))
      v.push(`spec.names: ${n} is not a DNS-1035 label`);
  if (names.kind === names.listKind) v.push("kind and listKind may not be the same");
  if (!["Cluster", "Namespaced"].includes(scope)) v.push(`spec.scope: ${scope}`);
  return v;
}

type Column = NonNullable<Crd["spec"]["versions"][number]["additionalPrinterColumns"]>[number];

/** Each column shows a field the schema has, of a type the column can show. */
function columnViolations(version: string, schema: Schema, columns: Column[]): string[] {
  const v: string[] = [];
  for (const c of columns) {
    const at = META_PATHS.has(c.jsonPath)
      ? { type: c.type === "date" ? "string" : c.type }
      : schemaAt(schema, c.jsonPath);
    if (!at) v.push(`${version}: column ${c.name} (${c.jsonPath}) is no field of the schema`);
    else if (!COLUMN_TYPES[c.type]?.includes(at.type ?? ""))
      v.push(`${version}: column ${c.name} is ${c.type}, the field ${at.type}`);
  }
  return v;
}

/** crds/nodemasquerades.yaml, parsed: exactly one document that parses. */
export function crdFile(): Crd {
  const docs = parseAllDocuments(readFileSync(join(CHART, "crds", "nodemasquerades.yaml"), "utf8"));
  if (docs.length !== 1) throw new Error(`expected one document, found ${docs.length}`);
  if (docs[0]!.errors.length) throw new Error(`does not parse: ${docs[0]!.errors[0]!.message}`);
  return docs[0]!.toJS() as Crd;
}
