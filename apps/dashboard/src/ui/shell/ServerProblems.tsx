"use client";
// What the server reports as wrong without being down (GET /healthz `problems`): a deleted or
// missing ConfigMap, a Kubernetes watch that cannot be kept, history not recorded. Shown on
// every page, because each of them changes what the pages can be trusted for.
import { useQuery } from "@tanstack/react-query";

async function fetchProblems(signal: AbortSignal): Promise<string[]> {
  const res = await fetch("/healthz", { signal, cache: "no-store" });
  const body = (await res.json()) as { problems?: unknown };
  return Array.isArray(body.problems) ? body.problems.filter((p) => typeof p === "string") : [];
}

export function ServerProblems() {
  const q = useQuery({
    queryKey: ["server-problems"],
    queryFn: ({ signal }) => fetchProblems(signal),
    refetchInterval: 10_000,
  });
  const problems = q.data ?? [];
  if (problems.length === 0) return null;
  return (
    <div
      role="status"
      className="border-t border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-100"
    >
      <ul className="mx-auto max-w-7xl space-y-0.5">
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}
