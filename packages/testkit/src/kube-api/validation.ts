// The object validation kube-apiserver applies to what the dashboard writes
// (pkg/apis/core/validation and apimachinery's ValidateObjectMeta), counted in bytes as Go's
// len() does: ConfigMap data ≤ 1 MiB, annotations ≤ 256 KiB, DNS-subdomain names.
import { invalid, type Obj, type StatusCause } from "./status.js";

/** core.MaxSecretSize: the sum of a ConfigMap's data and binaryData values. */
export const MAX_CONFIGMAP_BYTES = 1024 * 1024;
/** apimachinery TotalAnnotationSizeLimitB: the sum of annotation keys and values. */
export const MAX_ANNOTATION_BYTES = 256 * 1024;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** Throws the API server's 422 for an object it would refuse to store. */
export function validate(kind: string, obj: Obj): void {
  const name: string = obj.metadata?.name ?? "";
  const causes: StatusCause[] = [];
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253)
    causes.push({
      reason: "FieldValueInvalid",
      field: "metadata.name",
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  const annotations: Record<string, string> = obj.metadata?.annotations ?? {};
  const annotationBytes = Object.entries(annotations).reduce(
    (n, [k, v]) => n + bytes(k) + bytes(String(v)),
    0,
  );
  if (annotationBytes > MAX_ANNOTATION_BYTES)
    causes.push({
      reason: "FieldValueTooLong",
      field: "metadata.annotations",
      message: `Too long: must have at most ${MAX_ANNOTATION_BYTES} bytes`,
    });
  if (kind === "ConfigMap") causes.push(...configMapCauses(obj));
  if (kind === "Event") causes.push(...eventCauses(obj));
  if (causes.length > 0) throw invalid(kind, name, causes);
}

function configMapCauses(obj: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  let total = 0;
  for (const [key, value] of Object.entries<string>(obj.data ?? {})) {
    if (!CONFIG_KEY.test(key))
      causes.push({
        reason: "FieldValueInvalid",
        field: `data[${key}]`,
        message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      });
    total += bytes(String(value));
  }
  for (const value of Object.values<string>(obj.binaryData ?? {}))
    total += Buffer.from(String(value), "base64").length;
  if (total > MAX_CONFIGMAP_BYTES)
    causes.push({
      reason: "FieldValueTooLong",
      field: "[]",
      message: `Too long: must have at most ${MAX_CONFIGMAP_BYTES} bytes`,
    });
  return causes;
}

/**
 * legacyValidateEvent (pkg/apis/core/validation/events.go) for an Event without eventTime: the
 * involved object's namespace must be the Event's, and an Event about a cluster-scoped object
 * (a Node) lives in "default" (or no namespace).
 */
function eventCauses(obj: Obj): StatusCause[] {
  const ns: string = obj.metadata?.namespace ?? "";
  const involved: string = obj.involvedObject?.namespace ?? "";
  const ok = involved === "" ? ns === "" || ns === "default" : ns === involved;
  if (ok && obj.involvedObject?.kind && obj.involvedObject?.name) return [];
  return [
    {
      reason: "FieldValueInvalid",
      field: "involvedObject.namespace",
      message: `Invalid value: "${involved}": does not match event.namespace`,
    },
  ];
}
