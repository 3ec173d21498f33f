/**
 * Where to go after sign-in: `raw` (the `next` query parameter) parsed as a URL relative to this
 * page's origin, followed only when it stays on that origin. Parsing the way the browser will
 * navigate is what makes this safe: the URL parser drops tab, CR and LF and treats "\" as "/",
 * so "/\t/evil.example" and "/\\evil.example" are really "//evil.example", another host.
 * Returns a path (+ query + fragment) on `origin`, or "/" for anything else.
 */
export function safeNext(raw: string | null, origin: string): string {
  if (!raw?.startsWith("/")) return "/";
  let url: URL;
  try {
    url = new URL(raw, origin);
  } catch {
    return "/";
  }
  if (url.origin !== new URL(origin).origin) return "/";
  if (url.pathname === "/login" || url.pathname.startsWith("/login/")) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}
