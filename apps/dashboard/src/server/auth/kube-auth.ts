// Kubernetes mode auth. People: TokenReview says who, SubjectAccessReview on the config
// ConfigMap says what (update → editor, get → viewer). Reporters: a projected ServiceAccount
// token for our audience, bound to the node its pod runs on.
import type { V1Pod, V1TokenReview, V1UserInfo } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiMessage, type KubeClients, type ObjectRef, statusCode } from "../kube/client.js";
import { tokenKey } from "./tokens.js";
import { TtlCache } from "./ttl-cache.js";
import type {
  PeopleAuthenticator,
  PeopleAuthResult,
  Principal,
  ReporterAuthenticator,
  ReporterAuthResult,
} from "./types.js";

const NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";
const POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name";
const POD_UID_EXTRA = "authentication.kubernetes.io/pod-uid";
const SA_PREFIX = "system:serviceaccount:";

async function review(
  clients: KubeClients,
  token: string,
  audiences?: string[],
): Promise<V1TokenReview> {
  return clients.authn.createTokenReview({
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token, ...(audiences ? { audiences } : {}) },
    },
  });
}

/** Refusals are cached this long: it blunts token guessing without locking out a fixed RBAC grant for long. */
const REFUSAL_TTL_MS = 5_000;

/** The answer when a review could not be made. */
type ReviewUnavailable = { ok: false; status: 503; error: string };

/**
 * A review's decision for `token`, cached by the token's hash (never the token): a grant for
 * `ttlMs`, a refusal for REFUSAL_TTL_MS. A review that could not be made (API down, no rights)
 * is logged as `failure.msg`, answered 503 naming `failure.what`, and not cached, so the next
 * request asks again.
 */
async function cachedDecision<R extends { ok: boolean }>(
  cache: TtlCache<R>,
  token: string,
  ttlMs: number,
  decide: (token: string) => Promise<R>,
  failure: { log: Logger; msg: string; what: string },
): Promise<R | ReviewUnavailable> {
  const key = tokenKey(token);
  const hit = cache.get(key);
  if (hit) return hit;
  let result: R;
  try {
    result = await decide(token);
  } catch (e) {
    failure.log.warn({ err: e }, failure.msg);
    return { ok: false, status: 503, error: reviewFailure(e, failure.what) };
  }
  cache.set(key, result, result.ok ? ttlMs : REFUSAL_TTL_MS);
  return result;
}

export class KubePeopleAuth implements PeopleAuthenticator {
  private readonly cache = new TtlCache<PeopleAuthResult>();

  constructor(
    private readonly clients: KubeClients,
    private readonly configMap: ObjectRef,
    private readonly log: Logger,
    private readonly ttlMs = 30_000,
  ) {}

  authenticate(token: string): Promise<PeopleAuthResult> {
    return cachedDecision(this.cache, token, this.ttlMs, this.decide.bind(this), {
      log: this.log,
      msg: "TokenReview/SubjectAccessReview failed",
      what: "this token",
    });
  }

  private async decide(token: string): Promise<PeopleAuthResult> {
    const tr = await review(this.clients, token);
    const user = tr.status?.user;
    if (!tr.status?.authenticated || !user?.username)
      return { ok: false, status: 401, error: "token rejected by Kubernetes" };
    const kube = {
      username: user.username,
      ...(user.groups ? { groups: user.groups } : {}),
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
    };
    if (await this.allowed(user, "update"))
      return { ok: true, principal: { user: user.username, role: "editor", kube } };
    if (await this.allowed(user, "get"))
      return { ok: true, principal: { user: user.username, role: "viewer", kube } };
    return {
      ok: false,
      status: 403,
      error: `${user.username} may not get configmap ${this.configMap.namespace}/${this.configMap.name}`,
    };
  }

  /** SubjectAccessReview: may this user update ConfigMap `name` (in the ConfigMap's namespace)? */
  async mayUpdateConfigMap(principal: Principal, name: string): Promise<boolean> {
    if (!principal.kube) return principal.role === "editor";
    return this.allowed(principal.kube, "update", name);
  }

  private async allowed(
    user: V1UserInfo,
    verb: "get" | "update",
    name = this.configMap.name,
  ): Promise<boolean> {
    const sar = await this.clients.authz.createSubjectAccessReview({
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          groups: user.groups,
          uid: user.uid,
          extra: user.extra,
          resourceAttributes: {
            namespace: this.configMap.namespace,
            verb,
            group: "",
            resource: "configmaps",
            name,
          },
        },
      },
    });
    return sar.status?.allowed === true;
  }
}

export class KubeReporterAuth implements ReporterAuthenticator {
  private readonly cache = new TtlCache<ReporterAuthResult>();

  constructor(
    private readonly clients: KubeClients,
    private readonly audience: string,
    private readonly log: Logger,
    /** When set, only this ServiceAccount ("system:serviceaccount:NS:NAME") may report. */
    private readonly serviceAccount?: string,
    private readonly ttlMs = 60_000,
  ) {}

  authenticate(token: string): Promise<ReporterAuthResult> {
    return cachedDecision(this.cache, token, this.ttlMs, this.decide.bind(this), {
      log: this.log,
      msg: "reporter TokenReview failed",
      what: "the reporter token",
    });
  }

  private async decide(token: string): Promise<ReporterAuthResult> {
    const tr = await review(this.clients, token, [this.audience]);
    const user = tr.status?.user;
    if (!tr.status?.authenticated || !user?.username)
      return { ok: false, status: 401, error: "reporter token rejected by Kubernetes" };
    if (!(tr.status.audiences ?? []).includes(this.audience))
      return {
        ok: false,
        status: 401,
        error: `reporter token is not for audience ${this.audience}`,
      };
    if (!user.username.startsWith(SA_PREFIX))
      return { ok: false, status: 403, error: "reporters must use a ServiceAccount token" };
    if (this.serviceAccount && user.username !== this.serviceAccount) {
      return {
        ok: false,
        status: 403,
        error: `${user.username} is not the reporters' ServiceAccount`,
      };
    }
    const node = await this.nodeOf(user);
    if ("error" in node) return { ok: false, status: node.status, error: node.error };
    return { ok: true, identity: user.username, node: node.name };
  }

  /**
   * The node a token is bound to: its node-name claim (Kubernetes ≥ 1.30 with
   * ServiceAccountTokenPodNodeInfo, GA in 1.32), else the node of the pod it is bound to, which
   * needs `get` on pods in the reporters' namespace (chart value auth.reporterNodeFromPod).
   */
  private async nodeOf(
    user: V1UserInfo,
  ): Promise<{ name: string } | { status: 401 | 403; error: string }> {
    const node = user.extra?.[NODE_NAME_EXTRA]?.[0];
    if (node) return { name: node };
    const pod = user.extra?.[POD_NAME_EXTRA]?.[0];
    const namespace = user.username?.slice(SA_PREFIX.length).split(":")[0];
    if (!pod || !namespace)
      return {
        status: 403,
        error: "reporter token is not bound to a node (use a projected ServiceAccount token)",
      };
    let p: V1Pod;
    try {
      p = await this.clients.core.readNamespacedPod({ namespace, name: pod });
    } catch (e) {
      const code = statusCode(e);
      if (code === 404)
        return {
          status: 401,
          error: `the pod ${namespace}/${pod} this token is bound to no longer exists`,
        };
      if (code !== 403) throw e;
      return {
        status: 403,
        error: `the reporter token carries no ${NODE_NAME_EXTRA} claim (Kubernetes 1.30/1.31 with the ServiceAccountTokenPodNodeInfo feature off), and the dashboard may not read the reporter's pod ${namespace}/${pod} to find its node: turn the feature on, or grant get on pods in ${namespace} (chart value auth.reporterNodeFromPod=true). The API server said: ${apiMessage(e)}`,
      };
    }
    const uid = user.extra?.[POD_UID_EXTRA]?.[0];
    if (uid && p.metadata?.uid !== uid)
      return {
        status: 401,
        error: `the pod ${namespace}/${pod} this token is bound to was replaced`,
      };
    if (!p.spec?.nodeName)
      return {
        status: 403,
        error: `the reporter's pod ${namespace}/${pod} is not scheduled to a node`,
      };
    return { name: p.spec.nodeName };
  }
}

/** Why a TokenReview/SubjectAccessReview could not be made, for the 503 answer. */
function reviewFailure(e: unknown, what: string): string {
  const code = statusCode(e);
  if (code === 401 || code === 403)
    return `the dashboard's own ServiceAccount may not check ${what} (${apiMessage(e)})`;
  return `cannot reach the Kubernetes API to check ${what}`;
}
