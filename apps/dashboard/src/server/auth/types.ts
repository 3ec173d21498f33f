export type Role = "editor" | "viewer";

export interface Principal {
  user: string;
  role: Role;
  /** The Kubernetes user behind a TokenReview'd token (absent for static tokens). */
  kube?: { username: string; groups?: string[]; uid?: string; extra?: Record<string, string[]> };
}

export type PeopleAuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403 | 503; error: string };

/** Checks a person's token (static admin/viewer token, or TokenReview + SubjectAccessReview). */
export interface PeopleAuthenticator {
  authenticate(token: string): Promise<PeopleAuthResult>;
  /**
   * May this editor write that ConfigMap (a config source other than the primary one)? Asked
   * with SubjectAccessReview for Kubernetes users; absent: every editor may.
   */
  mayUpdateConfigMap?(principal: Principal, name: string): Promise<boolean>;
}

export type ReporterAuthResult =
  | {
      ok: true;
      identity: string /** When set, the connection may only speak for this node. */;
      node?: string;
    }
  | { ok: false; status: 401 | 403 | 503; error: string };

/** Checks the token a reporter presents on the WebSocket upgrade. */
export interface ReporterAuthenticator {
  authenticate(token: string): Promise<ReporterAuthResult>;
}
