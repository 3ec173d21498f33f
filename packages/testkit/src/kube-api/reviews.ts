// TokenReview and SubjectAccessReview as kube-apiserver answers them: a token is authenticated
// for the audiences it was issued for (a pod-bound token only while its pod exists), and an
// access review is decided by the same RBAC rules as real requests, for the user and groups
// given in the review.
import type { ObjectStore } from "./objects.js";
import type { Attributes, Rbac } from "./rbac.js";
import type { Obj } from "./status.js";

export const API_AUDIENCE = "https://kubernetes.default.svc";
const POD_NAME = "authentication.kubernetes.io/pod-name";
const POD_UID = "authentication.kubernetes.io/pod-uid";

export interface FakeUser {
  username: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export interface TokenInfo {
  user: FakeUser;
  /** Audiences the token was issued for; the API server's own is API_AUDIENCE. */
  audiences: string[];
}

/** The user a token authenticates as, with the group every authenticated user has. */
export function authenticated(
  info: TokenInfo,
): Required<Pick<FakeUser, "username" | "groups">> & FakeUser {
  const groups = [...(info.user.groups ?? [])];
  if (!groups.includes("system:authenticated")) groups.push("system:authenticated");
  return { ...info.user, groups };
}

/** A pod-bound ServiceAccount token is valid only while that pod (same UID) exists. */
function boundPodExists(store: ObjectStore, user: FakeUser): boolean {
  const pod = user.extra?.[POD_NAME]?.[0];
  if (!pod) return true;
  const namespace = user.username.split(":")[2] ?? "";
  const cur = store.get("pods", namespace, pod);
  const uid = user.extra?.[POD_UID]?.[0];
  return cur !== undefined && (!uid || cur.metadata.uid === uid);
}

export function tokenReview(tokens: Map<string, TokenInfo>, store: ObjectStore, body: Obj): Obj {
  const info = tokens.get(body?.spec?.token);
  const wanted: string[] = body?.spec?.audiences ?? [API_AUDIENCE];
  const audiences = info ? wanted.filter((a) => info.audiences.includes(a)) : [];
  const ok = info !== undefined && audiences.length > 0 && boundPodExists(store, info.user);
  return {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    metadata: { creationTimestamp: null },
    spec: body?.spec ?? {},
    status: ok
      ? { authenticated: true, user: authenticated(info), audiences }
      : { user: {}, error: "[invalid bearer token, token lookup failed]" },
  };
}

export function accessReview(rbac: Rbac | "allow-all", body: Obj): Obj {
  const s = body?.spec ?? {};
  const ra = s.resourceAttributes;
  let reason = "";
  if (rbac === "allow-all") reason = "allow-all test API server";
  else if (ra) {
    const a: Attributes = {
      user: s.user ?? "",
      groups: s.groups ?? [],
      verb: ra.verb ?? "",
      group: ra.group ?? "",
      resource: ra.subresource ? `${ra.resource}/${ra.subresource}` : (ra.resource ?? ""),
      namespace: ra.namespace ?? "",
      name: ra.name ?? "",
    };
    reason = rbac.allowedBy(a) ?? "";
  }
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    metadata: { creationTimestamp: null },
    spec: s,
    status: reason ? { allowed: true, reason } : { allowed: false },
  };
}
