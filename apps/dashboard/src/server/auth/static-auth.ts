// Standalone auth: shared secrets from the environment (or generated into the data dir).
import { verifyNodeToken } from "@masq/shared/node-token";
import { safeEqual } from "./tokens.js";
import type {
  PeopleAuthenticator,
  PeopleAuthResult,
  Principal,
  ReporterAuthenticator,
  ReporterAuthResult,
} from "./types.js";

export class StaticPeopleAuth implements PeopleAuthenticator {
  constructor(
    private readonly adminToken: string | undefined,
    private readonly viewerToken: string | undefined,
    /** Consulted when neither static token matches (Kubernetes mode). */
    private readonly fallback?: PeopleAuthenticator,
  ) {}

  async authenticate(token: string): Promise<PeopleAuthResult> {
    if (this.adminToken && safeEqual(token, this.adminToken))
      return { ok: true, principal: { user: "admin", role: "editor" } };
    if (this.viewerToken && safeEqual(token, this.viewerToken))
      return { ok: true, principal: { user: "viewer", role: "viewer" } };
    if (this.fallback) return this.fallback.authenticate(token);
    return { ok: false, status: 401, error: "invalid token" };
  }

  /** Static tokens are break-glass: the admin may; Kubernetes users are asked (fallback). */
  async mayUpdateConfigMap(principal: Principal, name: string): Promise<boolean> {
    if (!principal.kube || !this.fallback?.mayUpdateConfigMap) return principal.role === "editor";
    return this.fallback.mayUpdateConfigMap(principal, name);
  }
}

export interface StaticReporterOptions {
  /**
   * Also accept the secret itself, for any node name (the behaviour before per-node tokens).
   * Off by default: whoever holds it, e.g. any one compromised node, can speak for every node.
   */
  acceptSharedSecret?: boolean;
}

/**
 * Standalone reporters: a per-node token derived from the reporter secret (`ipmasq token`),
 * bound to the node it names; optionally the bare secret for any node (see the option).
 */
export class StaticReporterAuth implements ReporterAuthenticator {
  constructor(
    private readonly secret: string,
    private readonly opts: StaticReporterOptions = {},
  ) {}

  async authenticate(token: string): Promise<ReporterAuthResult> {
    const node = verifyNodeToken(this.secret, token);
    if (node !== undefined) return { ok: true, identity: `node-token:${node}`, node };
    if (safeEqual(token, this.secret)) {
      if (this.opts.acceptSharedSecret) return { ok: true, identity: "shared-secret" };
      return {
        ok: false,
        status: 401,
        error:
          "the shared reporter secret is not a reporter token: give each node its own with `ipmasq token --node NAME --secret-file FILE` (or set IPMASQ_ACCEPT_SHARED_REPORTER_TOKEN=true)",
      };
    }
    return { ok: false, status: 401, error: "invalid reporter token" };
  }
}
