/**
 * Runs async sections one at a time, in call order (saves, applies, history records). A
 * section that fails does not stop the next; its caller gets the error.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
