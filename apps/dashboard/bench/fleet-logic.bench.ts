// Issue 17: the dashboard's own CPU per node for one push and its acknowledgements, without
// sockets (fleet-logic.ts in its own process), beside the fleet benchmark's whole-process
// figure: the difference is the WebSocket and TCP work and the garbage of N sockets.
import { fork } from "node:child_process";
import { join } from "node:path";
import type { BenchResult } from "../../../bench/types.js";
import { childArgs } from "./dashboard-process.js";
import { PER_NODE } from "./own-line.js";

const NODES = 5000;

interface Run {
  rounds: number[];
  heapBytesPerNode: number;
}

function run(): Promise<Run> {
  const proc = fork(join(import.meta.dirname, "fleet-logic.ts"), [], {
    execArgv: childArgs("logic"),
    env: { ...process.env, FLEET_LOGIC_NODES: String(NODES) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    proc.once("message", (m) => resolve(m as Run));
    proc.once("exit", (code) => reject(new Error(`fleet-logic exited with ${code}`)));
  });
}

export default async function (): Promise<BenchResult[]> {
  const r = await run();
  const warm = r.rounds.slice(2);
  const median = [...warm].sort((a, b) => a - b)[Math.floor((warm.length - 1) / 2)]!;
  return [
    {
      id: PER_NODE ? "fleet-logic-per-node-own-rules" : "fleet-logic-per-node",
      issue: 17,
      name: `dashboard logic per node for one push + acks, no sockets (${NODES} nodes${PER_NODE ? ", each with its own POSTROUTING line: FLEET_BENCH_PER_NODE=1" : ""})`,
      value: median,
      unit: "µs",
      notes: `process.cpuUsage of the real fleet state, frame decoder (JSON + schema) and browser updates fed ${NODES} nodes' frames (encoded outside the window); median of rounds 3–${r.rounds.length} (${r.rounds.join(", ")} µs/node, the first ones before the JIT warms up); heap ${(r.heapBytesPerNode / 1024).toFixed(1)} KB/node. Sources run through tsx, as in the fleet benchmark (the compiled server is ~10 % faster)`,
    },
  ];
}
