// What the node page says in place of the parts only the replica holding a node has (every
// replica active): the packet tester needs its rules (this replica's evaluate answers 409), and
// its timeline is kept by the replica its reporter is connected to.
import type { NodeDetail } from "@masq/shared";

type Held = NonNullable<NodeDetail["heldElsewhere"]>;

export interface HeldElsewhereNotes {
  tester: string;
  history: string;
  /** The command opening the holder, and what to open then; null when there is none to open. */
  open: string | null;
}

export function heldElsewhereNotes(h: Held): HeldElsewhereNotes {
  if (h.portForward !== null && h.lastHolder)
    return {
      tester: `Not on this replica, nor live anywhere: the node's reporter is connected to no replica now (see its status). Replica ${h.replica}, which held it last, has its last known rules; this replica has only its NodeMasquerade status.`,
      history: `This replica keeps no history of this node: replica ${h.replica}, which held its reporter connection last, keeps its timeline. Its Kubernetes Events are on the Node (kubectl describe node).`,
      open: `Open replica ${h.replica}, which held it last, for its last known rules and its history, then http://localhost:8080:`,
    };
  if (h.portForward === null)
    return {
      tester:
        "Not on this replica: it has only the node's NodeMasquerade status, and the node's reporter is connected to no replica now (see its status), so none has its rules to answer for a packet.",
      history:
        "This replica keeps no history of this node: its timeline is kept by the replica its reporter connects to, and it is connected to none now. Its Kubernetes Events are on the Node (kubectl describe node).",
      open: null,
    };
  return {
    tester: `Not on this replica: the node's reporter is connected to replica ${h.replica}, which has its rules; this replica has only its NodeMasquerade status, so it cannot answer for a packet.`,
    history: `This replica keeps no history of this node: its timeline is kept by replica ${h.replica}, which holds its reporter connection. Its Kubernetes Events are on the Node (kubectl describe node).`,
    open: `Open replica ${h.replica} for its rules, the tester and its history, then http://localhost:8080:`,
  };
}
