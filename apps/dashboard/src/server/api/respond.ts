import type { ServerResponse } from "node:http";
import type { Issue } from "@masq/shared";

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(text);
}

/** Every error body: a sentence, plus the config issues when there are some. */
export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  extra: { errors?: Issue[] } & Record<string, unknown> = {},
  headers: Record<string, string | string[]> = {},
): void {
  sendJson(res, status, { error, ...extra }, headers);
}
