"use client";
// Forgetting an offline node from its page (DELETE /api/nodes/:name): a node whose reporter
// will not come back stays listed offline until IPMASQ_OFFLINE_NODE_TTL, and an operator using
// only the browser had no way to remove it sooner.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Dialog } from "../components/Dialog";
import { XIcon } from "../components/icons";
import { useToast } from "../components/Toaster";
import { useCanEdit } from "../shell/me";

/** Shown for an offline node to editors; asks before it forgets the node. */
export function ForgetButton({ name, offline }: { name: string; offline: boolean }) {
  const canEdit = useCanEdit();
  const toast = useToast();
  const router = useRouter();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!offline || !canEdit) return null;
  const forget = async () => {
    setBusy(true);
    try {
      await endpoints.forgetNode(name);
      toast("success", `${name} forgotten`);
      router.push("/");
    } catch (e) {
      toast("error", `Forgetting ${name} failed: ${errorMessage(e)}`);
      setBusy(false);
      setAsking(false);
    }
  };
  return (
    <>
      <Button onClick={() => setAsking(true)} icon={<XIcon className="size-4" />}>
        Forget
      </Button>
      <Dialog
        open={asking}
        title={`Forget ${name}?`}
        description="Its record and timeline are removed from the dashboard. Nothing changes on the node; if its reporter connects again, the node is listed again."
        onClose={() => setAsking(false)}
        footer={
          <>
            <Button onClick={() => setAsking(false)}>Cancel</Button>
            <Button variant="danger" busy={busy} onClick={() => void forget()}>
              Forget {name}
            </Button>
          </>
        }
      >
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Do this for a node that was removed from the cluster or will not run a reporter again.
        </p>
      </Dialog>
    </>
  );
}
