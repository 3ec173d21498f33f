// Waiting for conditions in tests: deadlines prove a mechanism works, they do not measure it.
import { sleep } from "@masq/node-util";

export { sleep };

/** Polls `f` until it returns a truthy value; throws after `timeoutMs`. */
export async function until<T>(
  f: () => T | Promise<T>,
  timeoutMs = 5_000,
  stepMs = 10,
  what = "condition",
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `${what} not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ""}`,
      );
    await sleep(stepMs);
  }
}
