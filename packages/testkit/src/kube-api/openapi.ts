// A custom resource checked against its CRD's structural openAPIV3Schema as apiextensions-
// apiserver does (pkg/apiserver/schema/pruning and kube-openapi's validate): unknown fields are
// pruned silently (unless x-kubernetes-preserve-unknown-fields), then type, nullable, required,
// enum, maxLength, minLength, pattern, maxItems, minimum and additionalProperties are checked;
// each failure is one StatusCause with the real server's message shape.
import type { Obj, StatusCause } from "./status.js";

type Schema = Obj;

/** The schema of `key` in an object described by `schema`, if it declares one. */
const fieldSchema = (schema: Schema, key: string): Schema | undefined =>
  schema.properties?.[key] ??
  (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);

const isMap = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Drops the fields the schema does not declare (in place); metadata is never pruned here. */
export function prune(value: Obj, schema: Schema | undefined, top = true): void {
  if (!schema || schema["x-kubernetes-preserve-unknown-fields"]) return;
  if (Array.isArray(value)) for (const v of value) prune(v, schema.items, false);
  if (!isMap(value)) return;
  for (const k of Object.keys(value)) {
    if (top && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
    const sub = fieldSchema(schema, k);
    if (sub) prune(value[k], sub, false);
    else delete value[k];
  }
}

const typeOf = (v: unknown): string => {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
};

const show = (v: unknown) => (typeof v === "string" ? `"${v}"` : JSON.stringify(v));

/** Every cause against `schema` of `value` at `path` ("" at the root). */
export function validateSchema(value: Obj, schema: Schema | undefined, path = ""): StatusCause[] {
  if (!schema) return [];
  const at = path || "<root>";
  const t = typeOf(value);
  if (t === "null") {
    if (schema.nullable) return [];
    return [invalidType(at, schema.type, "null")];
  }
  const want: string | undefined = schema.type;
  if (want && !(t === want || (want === "number" && t === "integer")))
    return [invalidType(at, want, t)];
  const causes = scalarCauses(value, t, schema, at);
  if (t === "string") causes.push(...stringCauses(value, schema, at));
  if (t === "array") causes.push(...arrayCauses(value, schema, path));
  if (t === "object") causes.push(...objectCauses(value, schema, path));
  return causes;
}

function scalarCauses(value: Obj, t: string, schema: Schema, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (schema.enum && !schema.enum.includes(value))
    causes.push({
      reason: "FieldValueNotSupported",
      field: at,
      message: `Unsupported value: ${show(value)}: supported values: ${schema.enum.map(show).join(", ")}`,
    });
  if (t === "string" && schema.maxLength !== undefined && [...value].length > schema.maxLength)
    causes.push({
      reason: "FieldValueTooLong",
      field: at,
      message: `Too long: may not be more than ${schema.maxLength} bytes`,
    });
  const numeric = t === "integer" || t === "number";
  if (numeric && schema.minimum !== undefined && value < schema.minimum)
    causes.push({
      reason: "FieldValueInvalid",
      field: at,
      message: `Invalid value: ${value}: ${at} in body should be greater than or equal to ${schema.minimum}`,
    });
  return causes;
}

/** minLength and pattern (an ECMAScript-compatible RE2 pattern), worded as kube-openapi's. */
function stringCauses(value: string, schema: Schema, at: string): StatusCause[] {
  const invalid = (why: string): StatusCause => ({
    reason: "FieldValueInvalid",
    field: at,
    message: `Invalid value: ${show(value)}: ${at} in body ${why}`,
  });
  const causes: StatusCause[] = [];
  if (schema.minLength !== undefined && [...value].length < schema.minLength)
    causes.push(invalid(`should be at least ${schema.minLength} chars long`));
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value))
    causes.push(invalid(`should match '${schema.pattern}'`));
  return causes;
}

function arrayCauses(value: Obj[], schema: Schema, path: string): StatusCause[] {
  if (schema.maxItems !== undefined && value.length > schema.maxItems)
    return [tooMany(path, value.length, schema.maxItems)];
  return value.flatMap((v, i) => validateSchema(v, schema.items, `${path}[${i}]`));
}

function objectCauses(value: Obj, schema: Schema, path: string): StatusCause[] {
  const join = (k: string) => (path ? `${path}.${k}` : k);
  const causes: StatusCause[] = [];
  for (const k of schema.required ?? [])
    if (value[k] === undefined)
      causes.push({ reason: "FieldValueRequired", field: join(k), message: "Required value" });
  const props: Record<string, Schema> = schema.properties ?? {};
  for (const [k, v] of Object.entries(value)) {
    if (!path && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
    const sub =
      props[k] ??
      (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
    causes.push(...validateSchema(v, sub, join(k)));
  }
  return causes;
}

function invalidType(field: string, want: string, got: string): StatusCause {
  return {
    reason: "FieldValueTypeInvalid",
    field,
    message: `Invalid value: "${got}": ${field} in body must be of type ${want}: "${got}"`,
  };
}

function tooMany(field: string, n: number, max: number): StatusCause {
  return {
    reason: "FieldValueTooMany",
    field,
    message: `Too many: ${n}: must have at most ${max} items`,
  };
}
