import { createHash } from "node:crypto";

/** SHA-256 of `data` (strings as UTF-8), as hex (default) or base64url text. */
export function sha256(data: string | Uint8Array, encoding: "hex" | "base64url" = "hex"): string {
  return createHash("sha256").update(data).digest(encoding);
}
