// A dashboard (in-process, file store) with real `ipmasq run` reporters, one per network
// namespace, each managing real iptables. Shared by the netns fleet test and the targets bench.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Mode, REPORTER_PATH } from "@masq/shared";
import { natRules, netnsPool } from "@masq/testkit/netns";
import {
  type ChildHandle,
  freePort,
  type ReporterOptions,
  startReporter,
} from "@masq/testkit/processes";
import { reporterToken, startServer, type TestServer } from "./server.js";

export interface FleetNode {
  name: string;
  /** Linux nodes: their namespace. */
  netns: string;
  /** Windows nodes: their CNI config file. */
  cni?: string;
  mode: Mode;
  /** Where its reporter keeps its state (--state-dir). */
  stateDir: string;
}

export interface NodeSpec {
  tag: string;
  mode?: Mode;
  /** Called with the new namespace before the reporter starts (seed rules). */
  before?: (netns: string) => void;
  /** A Windows node: the CNI config text to start from (no namespace). */
  windowsCni?: string;
  /** Extra environment of its reporter (e.g. a PATH with a failing iptables-restore). */
  env?: Record<string, string>;
}

/** The dashboard of a fleet: the file-store test server by default. */
export type FleetServer = Pick<TestServer, "url" | "api" | "stop" | "dispose">;

export interface FleetOptions {
  /** Starts the dashboard on this port (default: startServer with a file store in the fleet's temp dir). */
  dashboard?: (port: number) => Promise<FleetServer>;
  /** The token a node's reporter presents (default: the shared reporter token). */
  token?: (node: string) => string;
}

export interface NetnsFleet {
  server: FleetServer;
  nodes: FleetNode[];
  /** Node status as the dashboard reports it. */
  status(name: string): Promise<string | undefined>;
  statuses(): Promise<Record<string, string>>;
  rules(node: FleetNode): string[];
  /** The node's differences as the dashboard reports them, each `kind cidr`. */
  differences(name: string): Promise<string[]>;
  /** Stops the dashboard (reporters keep running and enforcing). */
  stopDashboard(): Promise<void>;
  /** Starts it again on the same port and data dir. */
  startDashboard(): Promise<void>;
  /** Stops a node's reporter (SIGTERM) and starts it again with the same options and state dir. */
  restartReporter(node: FleetNode): Promise<void>;
  close(): Promise<void>;
}

export async function startNetnsFleet(
  specs: NodeSpec[],
  opts: FleetOptions = {},
): Promise<NetnsFleet> {
  const pool = netnsPool("imd");
  const tmp = await mkdtemp(join(tmpdir(), "imd-fleet-"));
  const port = await freePort();
  const dataDir = join(tmp, "data");
  const children: ChildHandle[] = [];
  const reporterOptions: ReporterOptions[] = [];
  const dashboard = opts.dashboard ?? ((p: number) => startServer({ dataDir, port: p }));
  let server = await dashboard(port);
  const nodes: FleetNode[] = [];
  try {
    for (const s of specs) {
      const cni = s.windowsCni === undefined ? undefined : join(tmp, `${s.tag}.conf`);
      if (cni) await writeFile(cni, s.windowsCni!);
      const netns = cni ? "" : pool.add(s.tag);
      if (!cni) s.before?.(netns);
      const name = `node-${s.tag}`;
      const stateDir = join(tmp, "state", name);
      const node: FleetNode = { name, netns, cni, mode: s.mode ?? "enforce", stateDir };
      nodes.push(node);
      const options: ReporterOptions = {
        node: node.name,
        ...(cni ? { windowsCni: cni } : { netns }),
        dashboard: `ws://127.0.0.1:${port}${REPORTER_PATH}`,
        token: opts.token?.(node.name) ?? reporterToken(node.name),
        stateDir,
        mode: node.mode,
        logFile: join(tmp, `${node.name}.log`),
        env: s.env,
      };
      reporterOptions.push(options);
      children.push(startReporter(options));
    }
  } catch (e) {
    await Promise.all(children.map((c) => c.stop()));
    await server.dispose();
    pool.cleanup();
    throw e;
  }
  const status = async (name: string) => {
    const r = await server.api(`/api/nodes/${name}`);
    return r.status === 200 ? (r.body.node.status as string) : undefined;
  };
  return {
    get server() {
      return server;
    },
    nodes,
    status,
    async statuses() {
      const r = await server.api("/api/nodes");
      return Object.fromEntries(
        (r.body.nodes as { name: string; status: string }[]).map((n) => [n.name, n.status]),
      );
    },
    rules: (node) => natRules(node.netns, "IP-MASQ-AGENT"),
    async differences(name) {
      const view = (await server.api(`/api/nodes/${name}`)).body.view;
      return (view?.report.differences ?? []).map(
        (d: { kind: string; cidr?: string }) => `${d.kind} ${d.cidr}`,
      );
    },
    stopDashboard: () => server.stop(),
    async startDashboard() {
      server = await dashboard(port);
    },
    async restartReporter(node) {
      const i = nodes.indexOf(node);
      await children[i]!.stop();
      children[i] = startReporter(reporterOptions[i]!);
    },
    async close() {
      await Promise.all(children.map((c) => c.stop()));
      await server.dispose().catch(() => {});
      pool.cleanup();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
