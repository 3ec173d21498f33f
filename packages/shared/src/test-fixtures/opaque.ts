// A node whose path has a long chain of rules the packet cannot decide (one per interface, as
// per-pod rules look): for bounds tests and the path benchmark.

/** POSTROUTING → KUBE-POSTROUTING with n `-o vethN -j ACCEPT`, then POSTROUTING's MASQUERADE. */
export function opaqueReturnsNode(n: number): string {
  return [
    "*nat",
    ":POSTROUTING ACCEPT [0:0]",
    ":KUBE-POSTROUTING - [0:0]",
    "-A POSTROUTING -j KUBE-POSTROUTING",
    ...Array.from({ length: n }, (_, i) => `-A KUBE-POSTROUTING -o veth${i} -j ACCEPT`),
    "-A POSTROUTING -j MASQUERADE",
    "COMMIT",
    "",
  ].join("\n");
}
