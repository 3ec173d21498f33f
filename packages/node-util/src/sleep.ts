/** Resolves after `ms` milliseconds (setTimeout's range: see timers.ts in @masq/shared). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
