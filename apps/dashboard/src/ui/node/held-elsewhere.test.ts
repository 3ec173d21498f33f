import { describe, expect, it } from "vitest";
import { heldElsewhereNotes } from "./held-elsewhere";

describe("heldElsewhereNotes", () => {
  const notes = heldElsewhereNotes({
    replica: "dash-a",
    portForward: "kubectl port-forward -n kube-system pod/dash-a 8080:http",
  });
  const cases: { desc: string; input: keyof typeof notes; want: RegExp }[] = [
    {
      desc: "the tester says why it is not here",
      input: "tester",
      want: /replica dash-a, which has its rules/,
    },
    {
      desc: "the history does not pass for empty",
      input: "history",
      want: /^This replica keeps no history of this node: .* replica dash-a/,
    },
    { desc: "where to go instead", input: "open", want: /^Open replica dash-a .*localhost:8080/ },
  ];
  for (const { desc, input, want } of cases) it(desc, () => expect(notes[input]).toMatch(want));
});

describe("heldElsewhereNotes: reporter connected to no replica", () => {
  const notes = heldElsewhereNotes({ replica: "dash-a", portForward: null });
  it("claims no connection and offers nothing to open", () => {
    expect([notes.tester, notes.history].join(" ")).not.toMatch(/dash-a/);
    expect(notes.open).toBeNull();
  });
});

describe("heldElsewhereNotes: reporter left a replica that is alive", () => {
  const notes = heldElsewhereNotes({
    replica: "dash-a",
    portForward: "kubectl port-forward -n kube-system pod/dash-a 8080:http",
    lastHolder: true,
  });
  it("offers it for the last known rules, claiming no live connection", () => {
    expect(notes.open).toMatch(/^Open replica dash-a, which held it last, .*localhost:8080/);
    expect([notes.tester, notes.history].join(" ")).not.toMatch(/connected to replica dash-a/);
    expect(notes.tester).toMatch(/connected to no replica now/);
  });
});
