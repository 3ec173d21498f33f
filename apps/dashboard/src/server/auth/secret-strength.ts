// Refuses weak static tokens at start. A token is a password nobody has to remember: it must
// look like the output of a random generator. This cannot judge a long phrase a person chose,
// but it catches what people actually paste: one character, short words, repeated patterns,
// and one token reused for two roles.

/** Characters a token needs: `openssl rand -base64 32` gives 44, `openssl rand -hex 16` 32. */
export const MIN_SECRET_LENGTH = 32;

/**
 * Estimated bits: length × the Shannon entropy of its own character counts, which must also
 * reach MIN_BITS_PER_CHARACTER (so length alone cannot make "ababab…" pass). Random 16-byte hex
 * tokens never measured under 86 bits (2.7 per character) in 2 million draws; 32 random base64
 * bytes measure ~215 (4.9 per character).
 */
export const MIN_SECRET_BITS = 80;
export const MIN_BITS_PER_CHARACTER = 2.5;

export const HOW_TO_MAKE_A_SECRET =
  "make one with `openssl rand -base64 32` (or `head -c 32 /dev/urandom | base64`)";

/** Why `value` is too weak to be a token, or undefined when it is acceptable. */
export function secretProblem(value: string): string | undefined {
  if (value.length < MIN_SECRET_LENGTH)
    return `is too short (${value.length} characters; at least ${MIN_SECRET_LENGTH})`;
  if (/\s/.test(value)) return "contains whitespace";
  const period = repeatPeriod(value);
  if (period !== undefined)
    return `is one ${period}-character pattern repeated (${value.slice(0, period)}…)`;
  const perChar = entropyPerCharacter(value);
  const bits = perChar * value.length;
  if (bits < MIN_SECRET_BITS || perChar < MIN_BITS_PER_CHARACTER)
    return `has too little variety to be random (about ${Math.floor(bits)} bits, ${perChar.toFixed(1)} per character; at least ${MIN_SECRET_BITS} and ${MIN_BITS_PER_CHARACTER})`;
  return undefined;
}

export interface NamedSecret {
  /** The environment variable or file it came from, for the message. */
  name: string;
  value: string | undefined;
}

/**
 * Throws one error naming every weak token and every pair of roles that share a token (a
 * viewer holding the admin token is an admin). Unset secrets are skipped.
 */
export function assertStrongSecrets(secrets: readonly NamedSecret[]): void {
  const set = secrets.filter((s): s is { name: string; value: string } => Boolean(s.value));
  const problems = set.flatMap((s) => {
    const p = secretProblem(s.value);
    return p ? [`${s.name} ${p}`] : [];
  });
  for (let i = 0; i < set.length; i++)
    for (let j = i + 1; j < set.length; j++)
      if (set[i]!.value === set[j]!.value)
        problems.push(`${set[i]!.name} and ${set[j]!.name} are the same token`);
  if (problems.length > 0)
    throw new Error(
      `refusing weak tokens: ${problems.join("; ")}. Each role needs its own random token: ${HOW_TO_MAKE_A_SECRET}`,
    );
}

function entropyPerCharacter(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / s.length) * Math.log2(c / s.length);
  return h;
}

/**
 * The shortest p such that every character equals the one p before it, when p is at most half
 * the length ("abcabcab" → 3). Linear: the last value of the KMP prefix function.
 */
function repeatPeriod(s: string): number | undefined {
  const pi = new Array<number>(s.length).fill(0);
  for (let i = 1; i < s.length; i++) {
    let k = pi[i - 1]!;
    while (k > 0 && s[i] !== s[k]) k = pi[k - 1]!;
    pi[i] = s[i] === s[k] ? k + 1 : k;
  }
  const period = s.length - (pi.at(-1) ?? 0);
  return period <= s.length / 2 ? period : undefined;
}
