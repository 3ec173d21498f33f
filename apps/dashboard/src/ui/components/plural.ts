// A count with its noun, in the singular for one: "1 action", "2 actions", "0 actions".

/** `n` and `one` (or `many`, by default `one` + "s"); `n` as the caller formats it, if given. */
export function plural(
  n: number,
  one: string,
  many = `${one}s`,
  shown: string = String(n),
): string {
  return `${shown} ${n === 1 ? one : many}`;
}
