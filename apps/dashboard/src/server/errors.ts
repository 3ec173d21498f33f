// The error every layer throws when a request must be refused: the store (a conflict, a refused
// write), the config queue (busy), auth (wrong token), the kube layer (no upstream pod). It sits
// below all of them so none imports the HTTP layer; the router answers it (api/router.ts).

/** A refusal with the HTTP status, sentence, extra body fields and headers of its answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
