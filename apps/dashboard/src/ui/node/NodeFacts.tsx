"use client";
import type { NodeSummary } from "@masq/shared";
import { LinuxIcon, WindowsIcon } from "../components/icons";

/** One line under the node's name: OS and mode, backend, versions, applied revision. */
export function NodeFacts({ node }: { node: NodeSummary }) {
  const windows = node.os === "windows";
  return (
    <span className="flex flex-wrap items-center gap-x-4 gap-y-1">
      <span className="inline-flex items-center gap-1.5">
        {windows ? <WindowsIcon className="size-3.5" /> : <LinuxIcon className="size-3.5" />}
        {windows ? "Windows" : "Linux"} ·{" "}
        {node.mode === "observe" ? "observe mode" : "enforce mode"}
      </span>
      {node.backend ? <span>backend {node.backend}</span> : null}
      {node.iptablesVersion ? (
        <span>
          {/^(iptables|nftables)/.test(node.iptablesVersion)
            ? node.iptablesVersion
            : `iptables ${node.iptablesVersion}`}
        </span>
      ) : null}
      {node.kernel ? <span>kernel {node.kernel}</span> : null}
      {node.notKnownHere ? (
        <span title={node.notKnownHere.reason}>
          {/* Not only another replica's nodes: a node applying, or not heard from since a
              restart, has no judged rules either; the title says which. */}
          {node.notKnownHere.fields.join(", ")} not known here
        </span>
      ) : null}
      <span>applied revision {node.appliedRevision ?? "none"}</span>
    </span>
  );
}
