// Request bodies: size cap, content type, JSON syntax, then a strict zod schema whose
// error names the offending field. Nothing is acted on unless all of it passes.
import type { IncomingMessage } from "node:http";
import { MAX_HTTP_BODY_BYTES, zodReason } from "@masq/shared";
import type { z } from "zod";
import { HttpError } from "../errors.js";

export async function readBody(req: IncomingMessage, limit = MAX_HTTP_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  const buf = Buffer.concat(chunks);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    throw new HttpError(400, "request body is not UTF-8");
  }
}

export async function parseJsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const text = await readBody(req);
  if (text.trim() === "") return validate(schema, {});
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    throw new HttpError(415, "send the body as Content-Type: application/json");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `malformed JSON: ${(e as Error).message}`);
  }
  return validate(schema, value);
}

function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, zodReason(r.error, { issues: 5, root: "body" }));
  return r.data;
}
