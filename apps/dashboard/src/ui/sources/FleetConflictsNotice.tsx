"use client";
// Conflicting config sources on the fleet page: nothing new reaches a node until they are
// resolved, which the fleet's own counts do not show (every node stays in sync with the last
// good merge). One line, linking to the Config page that lists them all.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { endpoints } from "../api/endpoints";
import { Callout } from "../components/Callout";
import { useRefetchOnLive } from "../live/refetch-on-live";
import { fleetConflictNotice } from "./conflict-notice";

export function FleetConflictsNotice() {
  // The Config page's query: a source change sends a "config" event, as a save does.
  const q = useQuery({ queryKey: ["config"], queryFn: ({ signal }) => endpoints.config(signal) });
  useRefetchOnLive(["config", "hello"], ["config"]);
  const notice = fleetConflictNotice(q.data?.merge);
  if (!notice) return null;
  return (
    <Callout tone="error" role="alert" className="mb-4" title={notice.title}>
      {notice.detail}{" "}
      <Link href={notice.href} className="font-medium underline underline-offset-2">
        See the conflicts on the Config page
      </Link>
    </Callout>
  );
}
