/** Only same-site paths are followed after sign-in. */
export function safeNext(raw: string | null): string {
  if (
    !raw?.startsWith("/") ||
    raw.startsWith("//") ||
    raw.startsWith("/\\") ||
    raw.startsWith("/login")
  ) {
    return "/";
  }
  return raw;
}
