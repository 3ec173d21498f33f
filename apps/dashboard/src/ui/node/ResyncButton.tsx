"use client";
import { useState } from "react";
import { Button } from "../components/Button";
import { RefreshIcon } from "../components/icons";
import { useCanEdit } from "../shell/me";
import { useResyncNode } from "./useResyncNode";

/** Re-applies the desired rules on one node now (editors only, connected nodes only). */
export function ResyncButton({ name, offline }: { name: string; offline: boolean }) {
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
      disabled={!canEdit || offline}
      onClick={() => void resync()}
      title={
        !canEdit
          ? "Only editors can resync"
          : offline
            ? "The node is offline"
            : "Re-apply the desired rules on this node now"
      }
      icon={<RefreshIcon className="size-4" />}
    >
      Resync
    </Button>
  );
}
