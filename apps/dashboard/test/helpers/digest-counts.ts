// `ipmasq_snapshot_digests_total` by result, as a dashboard's /metrics says: the digest tests'
// measure of what went by digest, what was asked for and what came whole.
import type { TestServer } from "./server.js";

export type DigestCounts = Record<"known" | "unknown" | "whole" | "refused", number>;

export async function digestCounts(s: Pick<TestServer, "api">): Promise<DigestCounts> {
  const text = (await s.api("/metrics", { token: null })).body as string;
  const counts: DigestCounts = { known: 0, unknown: 0, whole: 0, refused: 0 };
  for (const m of text.matchAll(/^ipmasq_snapshot_digests_total\{result="(\w+)"\} (\d+)/gm))
    counts[m[1] as keyof DigestCounts] = Number(m[2]);
  return counts;
}
