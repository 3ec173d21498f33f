// metav1.Status bodies as kube-apiserver writes them (k8s.io/apimachinery/pkg/api/errors):
// the same codes, reasons and message shapes, so client code is tested against what it will
// really receive.

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are free-form JSON here.
export type Obj = any;

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

/** A failed request: HTTP status plus the Status object for the body. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] },
  ) {
    super(message);
  }

  status(): Obj {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `<resource> "<name>"` as errors.NewNotFound & co. qualify the object. */
function qualified(resource: string, group: string, name?: string): string {
  const r = group ? `${resource}.${group}` : resource;
  return name ? `${r} "${name}"` : r;
}

export const notFound = (resource: string, group: string, name: string) =>
  new ApiError(404, "NotFound", `${qualified(resource, group, name)} not found`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });

export const alreadyExists = (resource: string, group: string, name: string) =>
  new ApiError(409, "AlreadyExists", `${qualified(resource, group, name)} already exists`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });

/** errors.NewConflict with the registry's optimistic-concurrency message. */
export const conflict = (resource: string, group: string, name: string, why?: string) =>
  new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(resource, group, name)}: ${
      why ??
      "the object has been modified; please apply your changes to the latest version and try again"
    }`,
    { name, ...(group ? { group } : {}), kind: resource },
  );

export interface ForbiddenAttributes {
  user: string;
  verb: string;
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

/** The RBAC authorizer's refusal (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters). */
export function forbidden(a: ForbiddenAttributes): ApiError {
  const where = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  const reason = `User "${a.user}" cannot ${a.verb} resource "${a.resource}" in API group "${a.group}" ${where}`;
  return new ApiError(
    403,
    "Forbidden",
    `${qualified(a.resource.split("/")[0]!, a.group, a.name || undefined)} is forbidden: ${reason}`,
    {
      ...(a.name ? { name: a.name } : {}),
      ...(a.group ? { group: a.group } : {}),
      kind: a.resource,
    },
  );
}

/** errors.NewInvalid: `<Kind> "<name>" is invalid: <field>: <detail>` with one cause per field. */
export function invalid(kind: string, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  const text = causes.length > 1 ? `[${list}]` : list;
  return new ApiError(422, "Invalid", `${kind} "${name}" is invalid: ${text}`, {
    name,
    kind,
    causes,
  });
}

export const badRequest = (message: string) => new ApiError(400, "BadRequest", message);

export const unauthorized = () => new ApiError(401, "Unauthorized", "Unauthorized");

/** The watch cache's answer to a resourceVersion it no longer holds (sent as an ERROR event). */
export const expired = (from: number, oldest: number) =>
  new ApiError(410, "Expired", `too old resource version: ${from} (${oldest})`);

export const methodNotAllowed = () =>
  new ApiError(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
  );

export function successStatus(resource: string, group: string, name: string, uid: string): Obj {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: { name, ...(group ? { group } : {}), kind: resource, uid },
  };
}
