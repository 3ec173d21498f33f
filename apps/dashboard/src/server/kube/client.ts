// The few Kubernetes APIs the dashboard calls, built from one KubeConfig
// (KubeConfig.loadFromDefault() in a cluster, loadFromOptions() in tests).
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  Watch,
} from "@kubernetes/client-node";
import { reuseConnections } from "./connection-reuse.js";

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  authn: AuthenticationV1Api;
  authz: AuthorizationV1Api;
  coordination: CoordinationV1Api;
  watch: Watch;
}

/** `connections`: per API server origin for ordinary requests (kube/connection-reuse.ts). */
export function kubeClients(kc: KubeConfig, connections?: number): KubeClients {
  reuseConnections(kc, connections);
  const watch = new Watch(kc);
  // API servers send bookmarks about once a minute; the 30 s default inactivity timeout would
  // relist needlessly. The field is private in the typings but read on every watch.
  (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 120_000;
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    authn: kc.makeApiClient(AuthenticationV1Api),
    authz: kc.makeApiClient(AuthorizationV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    watch,
  };
}

/** HTTP status of a failed client-node call (ApiException.code, or a watch error's statusCode). */
export function statusCode(e: unknown): number | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const o = e as { code?: unknown; statusCode?: unknown };
  if (typeof o.code === "number") return o.code;
  if (typeof o.statusCode === "number") return o.statusCode;
  return undefined;
}

/**
 * The API server's own sentence for a failed call (the Status `message` of an ApiException's
 * body, e.g. 'configmaps "x" is forbidden: User "…" cannot create resource …'), else the
 * error's message.
 */
export function apiMessage(e: unknown): string {
  const body = (e as { body?: unknown } | null)?.body;
  if (typeof body === "string") {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === "string") return status.message;
    } catch {
      // not JSON: fall through
    }
  } else if (typeof (body as { message?: unknown } | undefined)?.message === "string") {
    return (body as { message: string }).message;
  }
  return e instanceof Error ? e.message : String(e);
}

export interface ObjectRef {
  namespace: string;
  name: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Parses "namespace/name" (IPMASQ_CONFIGMAP). */
export function parseObjectRef(text: string): ObjectRef {
  const [namespace, name, ...rest] = text.split("/");
  if (
    !namespace ||
    !name ||
    rest.length > 0 ||
    !DNS_LABEL.test(namespace) ||
    !DNS_SUBDOMAIN.test(name) ||
    name.length > 253
  ) {
    throw new Error(`"${text}" is not namespace/name`);
  }
  return { namespace, name };
}
