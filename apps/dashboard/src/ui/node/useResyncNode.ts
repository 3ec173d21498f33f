// Resyncing one node from any view: the request, and a toast saying how it went.
import { useCallback } from "react";
import { errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useToast } from "../components/Toaster";

/** Asks for a resync of node `name` now; resolves once the toast is shown (never rejects). */
export function useResyncNode(): (name: string) => Promise<void> {
  const toast = useToast();
  return useCallback(
    async (name: string) => {
      try {
        const r = await endpoints.resyncNode(name);
        // A node another dashboard replica holds: that replica sends it (scale-out.md).
        toast(
          "success",
          r.outcome === "requested"
            ? `Resync of ${name} requested via replica ${r.replica}`
            : `Resync requested for ${name}`,
        );
      } catch (e) {
        toast("error", `Resync of ${name} failed: ${errorMessage(e)}`);
      }
    },
    [toast],
  );
}
