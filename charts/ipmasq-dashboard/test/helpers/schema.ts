// Validation of rendered documents: the Kubernetes API JSON schema of each apiVersion/kind
// (kubernetes-models: ajv validators generated from the OpenAPI spec, offline) and fields the
// API does not know (kubectl's strict field validation), from @kubernetes/client-node's models.
import * as k8s from "@kubernetes/client-node";
import * as admission from "kubernetes-models/admissionregistration.k8s.io/v1";
import * as apiextensions from "kubernetes-models/apiextensions.k8s.io/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as coordination from "kubernetes-models/coordination.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as core from "kubernetes-models/v1";
import type { K8sObject } from "./render.js";

export type ModelCtor = new (data: unknown) => { validate(): void };
export const SCHEMAS: Record<string, Record<string, unknown>> = {
  v1: core,
  "apps/v1": apps,
  "admissionregistration.k8s.io/v1": admission,
  "apiextensions.k8s.io/v1": apiextensions,
  "coordination.k8s.io/v1": coordination,
  "policy/v1": policy,
  "rbac.authorization.k8s.io/v1": rbac,
};

/** Errors of `doc` against the Kubernetes API JSON schema of its apiVersion/kind. */
export function schemaErrors(doc: K8sObject): string[] {
  const Model = SCHEMAS[doc.apiVersion]?.[doc.kind] as ModelCtor | undefined;
  if (typeof Model !== "function") return [`no schema for ${doc.apiVersion} ${doc.kind}`];
  try {
    new Model(structuredClone(doc)).validate();
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

export interface AttributeType {
  baseName: string;
  type: string;
}
export type ClientModel = { getAttributeTypeMap(): AttributeType[] };
export const clientModels = k8s as unknown as Record<string, ClientModel | undefined>;
export const LEAF_TYPES = new Set([
  "string",
  "number",
  "boolean",
  "Date",
  "any",
  "object",
  "IntOrString",
]);

export function walkUnknown(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walkUnknown(v, array[1]!, `${path}[${i}]`, out);
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === "object")
      for (const [k, v] of Object.entries(value)) walkUnknown(v, map[1]!, `${path}.${k}`, out);
    return;
  }
  if (LEAF_TYPES.has(type)) return;
  const model = clientModels[type];
  if (typeof model?.getAttributeTypeMap !== "function") {
    out.push(`${path}: no model for type ${type}`);
    return;
  }
  if (typeof value !== "object" || Array.isArray(value)) return; // a type error: the schema reports it
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = fields.get(k);
    if (t === undefined) out.push(`${path}.${k}`);
    else walkUnknown(v, t, `${path}.${k}`, out);
  }
}

/** Fields the Kubernetes API does not define (strict field validation would reject them). */
export function unknownFields(doc: K8sObject): string[] {
  const version = doc.apiVersion.split("/").at(-1)!;
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${doc.kind}`;
  const out: string[] = [];
  walkUnknown(doc, type, doc.kind, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Invariants, as functions returning violations so that they can be shown to fail.
