import type { NodeRolloutPlace } from "@masq/shared";
import { Callout } from "../components/Callout";

/**
 * On the node page: which revision this node is judged against while a staged rollout holds it
 * back (or after an abort returned it), so its rules are never read against the wrong config.
 */
export function NodeRolloutNotice({ place }: { place: NodeRolloutPlace | null | undefined }) {
  if (!place) return null;
  if (place.aborted)
    return (
      <Callout tone="warning" className="mb-4" title="Rollout aborted">
        The rollout of revision {place.revision} was aborted: this node ({place.waveName}) enforces
        revision {place.desiredRevision} and is compared with it.
      </Callout>
    );
  if (place.released)
    return (
      <Callout tone="info" className="mb-4" title={`In a staged rollout: ${place.waveName}`}>
        This node's wave is released: it enforces revision {place.revision} and is compared with it.
      </Callout>
    );
  return (
    <Callout tone="info" className="mb-4" title={`Waiting in a staged rollout: ${place.waveName}`}>
      Revision {place.revision} is rolling out in waves and has not reached this node's wave yet: it
      keeps revision {place.desiredRevision} and is compared with that, not with the newest config.
    </Callout>
  );
}
