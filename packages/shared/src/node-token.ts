// Per-node reporter tokens for standalone mode (no Kubernetes to vouch for a reporter's node).
// The dashboard keeps one secret; each node gets a token derived from it and bound to its
// name, so a node's token lets it speak for that node only, and the dashboard stores nothing
// per node. Issued by `ipmasq token` (apps/reporter) and checked by the dashboard's gateway.
//
// Not exported from the package index: node:crypto has no place in the browser bundle that
// imports the rest of this package. Import it as "@masq/shared/node-token".
import { createHmac, timingSafeEqual } from "node:crypto";
import { nodeNameSchema } from "./protocol.js";

/** What the MAC covers before the name, so a node token never equals a MAC made for another use. */
const CONTEXT = "node:";

function mac(secret: string, node: string): Buffer {
  return createHmac("sha256", secret).update(`${CONTEXT}${node}`).digest();
}

/**
 * The token of `node`: `<node>.<base64url(HMAC-SHA256(secret, "node:" + node))>` (43 characters
 * after the dot). The name is in the clear so the dashboard knows, before any WebSocket exists,
 * which node the connection may speak for. Throws on a name that is not a node name.
 */
export function nodeToken(secret: string, node: string): string {
  if (!secret) throw new Error("the reporter secret is empty");
  const name = nodeNameSchema.safeParse(node);
  if (!name.success) throw new Error(`"${node}" is not a node name (a lowercase DNS name)`);
  return `${node}.${mac(secret, node).toString("base64url")}`;
}

/**
 * The node `token` was issued for, when its MAC is right for `secret` (compared in constant
 * time); undefined for anything else. Node names may contain dots, MACs never do: the last dot
 * splits them.
 */
export function verifyNodeToken(secret: string, token: string): string | undefined {
  const dot = token.lastIndexOf(".");
  if (dot <= 0 || !secret) return undefined;
  const node = token.slice(0, dot);
  if (!nodeNameSchema.safeParse(node).success) return undefined;
  const given = Buffer.from(token.slice(dot + 1), "base64url");
  const want = mac(secret, node);
  return given.length === want.length && timingSafeEqual(given, want) ? node : undefined;
}
