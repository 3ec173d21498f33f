// The label before one branch of the tester's answer: its conditions, or, for a branch without
// any (those of its group, such as the mark bit, are in the group's title), "Otherwise" only
// where other branches of the group have conditions, and "Every such packet" where it is alone.

export function branchLabel(
  branch: { when: readonly string[] },
  group: readonly { when: readonly string[] }[],
): string {
  if (branch.when.length > 0) return `If ${branch.when.join(" and ")}`;
  return group.some((b) => b.when.length > 0) ? "Otherwise" : "Every such packet";
}
