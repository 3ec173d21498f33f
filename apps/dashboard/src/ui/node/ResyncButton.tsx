"use client";
import { useState } from "react";
import { Button } from "../components/Button";
import { RefreshIcon } from "../components/icons";
import { useCanEdit } from "../shell/me";
import { resyncTitle } from "./resync-title";
import { useResyncNode } from "./useResyncNode";

/**
 * Re-applies the desired rules on one node now (editors only, connected nodes only).
 * `unavailable`: why the dashboard cannot resync it (the server's NodeSummary.resyncUnavailable,
 * e.g. observe mode while IPMASQ_OBSERVE_RESYNC is off): disabled, with the reason as its title.
 * `cannotHeal`: why a resync would leave the drifted node drifted (NodeSummary.resyncCannotHeal):
 * still enabled, and its title says so rather than promising a heal.
 */
export function ResyncButton({
  name,
  offline,
  unavailable,
  cannotHeal,
}: {
  name: string;
  offline: boolean;
  unavailable?: string;
  cannotHeal?: string;
}) {
  const canEdit = useCanEdit();
  const resyncNode = useResyncNode();
  const [resyncing, setResyncing] = useState(false);
  const resync = async () => {
    setResyncing(true);
    await resyncNode(name);
    setResyncing(false);
  };
  return (
    <Button
      variant="primary"
      busy={resyncing}
      disabled={!canEdit || offline || unavailable !== undefined}
      onClick={() => void resync()}
      title={resyncTitle(
        { resyncUnavailable: unavailable, resyncCannotHeal: cannotHeal },
        { canEdit, offline, subject: "this node" },
      )}
      icon={<RefreshIcon className="size-4" />}
    >
      Resync
    </Button>
  );
}
