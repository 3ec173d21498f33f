import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { refetchForEvent } from "./refetch-on-live";

/** A query whose fetches the test answers, in order. */
function scene() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: 5_000 } } });
  const answers: ((v: string) => void)[] = [];
  const observer = new QueryObserver<string>(qc, {
    queryKey: ["rollout"],
    queryFn: () => new Promise<string>((resolve) => answers.push(resolve)),
  });
  const seen: (string | undefined)[] = [];
  const stop = observer.subscribe((r) => seen.push(r.data));
  return { qc, answers, observer, stop };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("refetchForEvent", () => {
  it("an event during the first fetch gets an answer made after it, not that fetch's", async () => {
    const t = scene();
    await settle();
    expect(t.answers).toHaveLength(1); // the page's first fetch is out
    const done = refetchForEvent(t.qc, ["rollout"]); // the stream says the rollout changed
    await settle();
    t.answers[0]!("applying"); // the first fetch's answer, made before the event
    expect(t.answers).toHaveLength(2);
    t.answers[1]!("paused");
    await done;
    expect(t.observer.getCurrentResult().data).toBe("paused");
    t.stop();
  });

  it("an event after the first answer refetches once", async () => {
    const t = scene();
    await settle();
    t.answers[0]!("applying");
    await settle();
    const done = refetchForEvent(t.qc, ["rollout"]);
    await settle();
    expect(t.answers).toHaveLength(2);
    t.answers[1]!("paused");
    await done;
    expect(t.observer.getCurrentResult().data).toBe("paused");
    t.stop();
  });
});
