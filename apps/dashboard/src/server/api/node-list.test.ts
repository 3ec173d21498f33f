import type { NodeStatus } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { HttpError } from "../errors.js";
import { newRecord } from "../fleet/node.js";
import { listNodes, parseNodeListQuery } from "./node-list.js";

function record(name: string, status: NodeStatus) {
  return { ...newRecord(helloFor(name)), status };
}

const fleet = [
  record("node-c", "in-sync"),
  record("node-a", "drifted"),
  record("other-1", "in-sync"),
  record("node-b", "in-sync"),
  record("node-d", "offline"),
];

/** Follows `continue` until the last page; returns the names of each page. */
function pages(query: string): string[][] {
  const out: string[][] = [];
  let cont: string | undefined;
  do {
    const params = new URLSearchParams(query);
    if (cont) params.set("continue", cont);
    const page = listNodes(fleet, parseNodeListQuery(params));
    out.push(page.nodes.map((n) => n.name));
    cont = page.continue;
    if (cont) expect(page.remainingItemCount).toBeGreaterThan(0);
  } while (cont && out.length < 10);
  return out;
}

describe("GET /api/nodes paging", () => {
  const cases: { desc: string; input: string; want: string[][] }[] = [
    {
      desc: "no limit: everything, by name",
      input: "",
      want: [["node-a", "node-b", "node-c", "node-d", "other-1"]],
    },
    {
      desc: "pages of two",
      input: "limit=2",
      want: [["node-a", "node-b"], ["node-c", "node-d"], ["other-1"]],
    },
    {
      desc: "a page as long as the list",
      input: "limit=5",
      want: [["node-a", "node-b", "node-c", "node-d", "other-1"]],
    },
    {
      desc: "filters apply before paging",
      input: "status=in-sync&limit=1",
      want: [["node-b"], ["node-c"], ["other-1"]],
    },
    {
      desc: "name filter",
      input: "q=NODE&limit=3",
      want: [["node-a", "node-b", "node-c"], ["node-d"]],
    },
    { desc: "nothing matches", input: "status=error&limit=2", want: [[]] },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(pages(input)).toEqual(want);
  });

  it("counts what remains after a page", () => {
    const page = listNodes(fleet, parseNodeListQuery(new URLSearchParams("limit=2")));
    expect(page.remainingItemCount).toBe(3);
    expect(page.continue).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  const bad: { desc: string; input: string; want: RegExp }[] = [
    { desc: "limit 0", input: "limit=0", want: /limit must be a whole number from 1 to 5000/ },
    { desc: "limit too big", input: "limit=5001", want: /limit/ },
    { desc: "limit not a number", input: "limit=2x", want: /limit/ },
    { desc: "negative limit", input: "limit=-1", want: /limit/ },
    { desc: "a cursor we did not issue", input: "continue=bm9kZS1h", want: /not a cursor/ },
    { desc: "an unknown status", input: "status=lost", want: /status must be one of/ },
  ];
  it.each(bad)("answers 400 for $desc", ({ input, want }) => {
    let err: unknown;
    try {
      parseNodeListQuery(new URLSearchParams(input));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 400, message: expect.stringMatching(want) });
  });
});
