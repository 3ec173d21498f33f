export type Role = "editor" | "viewer";

export interface Principal {
  user: string;
  role: Role;
}

export type PeopleAuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403 | 503; error: string };

/** Checks a person's token (static admin/viewer token, or TokenReview + SubjectAccessReview). */
export interface PeopleAuthenticator {
  authenticate(token: string): Promise<PeopleAuthResult>;
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
