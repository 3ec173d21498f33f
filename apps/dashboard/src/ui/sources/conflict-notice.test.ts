import { describe, expect, it } from "vitest";
import { conflictsTitle, fleetConflictNotice } from "./conflict-notice";

const c = (message: string) => ({ message });

describe("conflictsTitle", () => {
  it("counts one and several conflicts", () => {
    expect(conflictsTitle(1)).toBe(
      "1 conflict between config sources: nodes keep the last good merged config",
    );
    expect(conflictsTitle(3)).toBe(
      "3 conflicts between config sources: nodes keep the last good merged config",
    );
  });
});

describe("fleetConflictNotice", () => {
  it("is nothing without a merge or without conflicts", () => {
    expect(fleetConflictNotice(null)).toBeNull();
    expect(fleetConflictNotice(undefined)).toBeNull();
    expect(fleetConflictNotice({ conflicts: [] })).toBeNull();
  });

  it("names the first conflict and counts the rest, linking to the Config page", () => {
    expect(fleetConflictNotice({ conflicts: [c("resyncInterval: 60s in a, 30s in b")] })).toEqual({
      title: conflictsTitle(1),
      detail: "resyncInterval: 60s in a, 30s in b",
      href: "/config",
    });
    expect(fleetConflictNotice({ conflicts: [c("first"), c("second"), c("third")] })).toEqual({
      title: conflictsTitle(3),
      detail: "first (and 2 more)",
      href: "/config",
    });
  });
});
