// pod → node → two peers, all in namespaces the test creates, with tiny TCP echo-the-source
// servers in the peers. Interfaces are created inside the namespaces (no names in the root one).
import { type ChildProcess, spawn } from "node:child_process";
import { inNetns, sh } from "@masq/testkit/netns";

export interface Topology {
  pod: string;
  node: string;
  peers: { ns: string; address: string; nodeAddress: string }[];
  podAddress: string;
}

export const POD_ADDRESS = "10.244.0.2";

/** A veth pair between two namespaces, addressed and up. */
export function link(
  a: string,
  aIf: string,
  aAddr: string,
  b: string,
  bIf: string,
  bAddr: string,
): void {
  sh(["ip", "-n", a, "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b]);
  sh(["ip", "-n", a, "addr", "add", aAddr, "dev", aIf]);
  sh(["ip", "-n", b, "addr", "add", bAddr, "dev", bIf]);
  sh(["ip", "-n", a, "link", "set", aIf, "up"]);
  sh(["ip", "-n", b, "link", "set", bIf, "up"]);
}

/** Wires pod (10.244.0.2) → node (forwarding) → peer A (10.10.0.2) and peer B (198.51.100.2). */
export function wire(names: { pod: string; node: string; peerA: string; peerB: string }): Topology {
  const { pod, node, peerA, peerB } = names;
  link(node, "to-pod", "10.244.0.1/24", pod, "eth0", `${POD_ADDRESS}/24`);
  link(node, "to-a", "10.10.0.1/24", peerA, "eth0", "10.10.0.2/24");
  link(node, "to-b", "198.51.100.1/24", peerB, "eth0", "198.51.100.2/24");
  sh(["ip", "-n", pod, "route", "add", "default", "via", "10.244.0.1"]);
  // Both peers can answer the pod directly, so only SNAT decides which source they see.
  sh(["ip", "-n", peerA, "route", "add", "10.244.0.0/24", "via", "10.10.0.1"]);
  sh(["ip", "-n", peerB, "route", "add", "10.244.0.0/24", "via", "198.51.100.1"]);
  inNetns(node, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  return {
    pod,
    node,
    podAddress: POD_ADDRESS,
    peers: [
      { ns: peerA, address: "10.10.0.2", nodeAddress: "10.10.0.1" },
      { ns: peerB, address: "198.51.100.2", nodeAddress: "198.51.100.1" },
    ],
  };
}

const SERVER = `require("node:net").createServer((s) => s.end(s.remoteAddress.replace(/^::ffff:/, ""))).listen(8080, "0.0.0.0", () => console.log("ready"));`;
const CLIENT = `const s = require("node:net").connect(8080, process.argv[1]); let d = ""; s.on("data", (b) => (d += b)); s.on("end", () => console.log(d)); s.on("error", (e) => { console.error(e.message); process.exit(1); }); s.setTimeout(3000, () => { console.error("timeout"); process.exit(2); });`;

/** Starts the source-reporting server in a namespace; resolves when it listens. */
export function startServer(ns: string): Promise<ChildProcess> {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", SERVER], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`server in ${ns} exited (${code})`)));
  });
}

/** Connects from `ns` to `address`:8080 and returns the source address the server saw. */
export function seenSource(ns: string, address: string): string {
  return inNetns(ns, [process.execPath, "-e", CLIENT, address]).trim();
}
