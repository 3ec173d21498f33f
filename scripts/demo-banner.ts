// Words of the demo's banner that depend on the fleet's state.
import type { HealSchedule } from "@masq/shared";

/**
 * When the node edited by hand heals on its own. The banner is printed after the drift is seen,
 * and the node heals at its next resync (within resyncInterval of its last apply): a user who
 * opens the page after that finds every node in sync, so say the clock time.
 */
export function healNote(heal: HealSchedule, resyncInterval: string): string {
  const when =
    heal.kind === "periodic" && heal.nextResyncAt !== null
      ? `, about ${new Date(heal.nextResyncAt).toISOString().slice(11, 19)} UTC`
      : "";
  return `at its next resync${when} (resyncInterval ${resyncInterval}, the default)`;
}
