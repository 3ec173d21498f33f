import { describe, expect, it } from "vitest";
import { listPaged } from "./node-masquerade-api.js";

/** A server whose pages are `script` in order: a page, or the HTTP code it fails with. */
function server(script: ({ items: string[]; continue?: string } | number)[]) {
  const asked: (string | undefined)[] = [];
  const page = async (cont: string | undefined) => {
    asked.push(cont);
    const next = script.shift();
    if (next === undefined) throw new Error("asked past the script");
    if (typeof next === "number") throw Object.assign(new Error(`HTTP ${next}`), { code: next });
    return { items: next.items, metadata: { resourceVersion: "7", continue: next.continue } };
  };
  return { page, asked };
}

describe("listPaged", () => {
  const cases = [
    {
      desc: "one page",
      input: [{ items: ["a", "b"] }],
      want: { items: ["a", "b"], asked: [undefined] },
    },
    {
      desc: "pages until no continue token",
      input: [{ items: ["a"], continue: "t1" }, { items: ["b"], continue: "t2" }, { items: ["c"] }],
      want: { items: ["a", "b", "c"], asked: [undefined, "t1", "t2"] },
    },
    {
      desc: "a continue token expired (410): the list starts over, nothing twice",
      input: [
        { items: ["a"], continue: "t1" },
        410,
        { items: ["a"], continue: "u1" },
        { items: ["b"] },
      ],
      want: { items: ["a", "b"], asked: [undefined, "t1", undefined, "u1"] },
    },
    {
      desc: "a first page refused: not retried here (the watch's relist backs off)",
      input: [410],
      want: { error: "HTTP 410", asked: [undefined] },
    },
    {
      desc: "another error on a continuation: not retried",
      input: [{ items: ["a"], continue: "t1" }, 500],
      want: { error: "HTTP 500", asked: [undefined, "t1"] },
    },
    {
      desc: "tokens that keep expiring: gives up after 3 restarts",
      input: [1, 2, 3, 4].flatMap(() => [{ items: ["a"], continue: "t" }, 410]),
      want: { error: "HTTP 410", asked: [1, 2, 3, 4].flatMap(() => [undefined, "t"]) },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, async () => {
      const s = server([...input]);
      const got = await listPaged(s.page).then(
        (r) => ({ items: r.items }),
        (e: Error) => ({ error: e.message }),
      );
      const { asked, ...rest } = want;
      expect(got).toEqual(rest);
      expect(s.asked).toEqual(asked);
    });
});
