// Standalone auth: shared secrets from the environment (or generated into the data dir).
import { safeEqual } from "./tokens.js";
import type {
  PeopleAuthenticator,
  PeopleAuthResult,
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
}

export class StaticReporterAuth implements ReporterAuthenticator {
  constructor(private readonly token: string) {}

  async authenticate(token: string): Promise<ReporterAuthResult> {
    return safeEqual(token, this.token)
      ? { ok: true, identity: "reporter" }
      : { ok: false, status: 401, error: "invalid reporter token" };
  }
}
