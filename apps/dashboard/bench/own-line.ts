// A node's own nat rule for benchmarks of fleets whose rules differ per node (flannel, AWS VPC
// CNI, Cilium write the node's own subnet or address on the nat path).

/** FLEET_BENCH_PER_NODE=1: every simulated node carries its own POSTROUTING line. */
export const PER_NODE = process.env.FLEET_BENCH_PER_NODE === "1";

/**
 * Node `name`'s own POSTROUTING line with FLEET_BENCH_PER_NODE=1: flannel's RETURN for traffic
 * from outside the cluster network (10.128.0.0/9) into the node's own pod /24.
 */
export function ownLine(name: string): string | undefined {
  if (!PER_NODE) return undefined;
  const i = Number(name.slice("node-".length));
  return `-A POSTROUTING ! -s 10.128.0.0/9 -d 10.${128 + (i >> 8)}.${i & 255}.0/24 -j RETURN`;
}
