// A dashboard restarted on its data dir in the middle of a rollout, and the fleet bar read after
// it (rollout-bar-restart*.test.ts).
import type { MasqConfig, NodeStatus, Rollout, RolloutStrategy } from "@masq/shared";
import { expect } from "vitest";
import { SimReporter } from "./reporter-client.js";
import {
  type Api,
  eventually,
  type perTest,
  reporterToken,
  startServer,
  type TestServer,
} from "./server.js";

type PerTest = ReturnType<typeof perTest>;

export const barOf = async (s: { api: Api }): Promise<Rollout | null> =>
  (await s.api("/api/nodes")).body.summary.rollout;

/** The fleet bar once `check` holds for it (its last value said when it never does). */
export async function barWhen(
  s: { api: Api },
  what: string,
  check: (r: Rollout | null) => boolean,
): Promise<Rollout | null> {
  let last: Rollout | null = null;
  try {
    return await eventually(
      async () => {
        last = await barOf(s);
        return check(last) ? { r: last } : undefined;
      },
      5000,
      what,
    ).then((x) => x.r);
  } catch (e) {
    throw new Error(`${(e as Error).message}; the bar said ${JSON.stringify(last)}`);
  }
}

/** The dashboard stopped (its reporters cut off) and started again on the same data dir. */
export async function restart(t: PerTest): Promise<TestServer> {
  const dataDir = t.server!.dataDir;
  for (const s of t.sims) s.ws.terminate();
  await t.server!.stop();
  t.server = await startServer({ dataDir });
  return t.server;
}

/** A node's reporter back after the restart, running what it ran before (its state file). */
export async function reconnect(
  t: PerTest,
  server: TestServer,
  before: SimReporter,
): Promise<SimReporter> {
  const node = before.opts.node;
  const initialConfig: MasqConfig | undefined = before.lastDesired;
  const sim = await SimReporter.raw({
    url: server.url,
    token: reporterToken(node),
    node,
    initialConfig,
  });
  t.sims.push(sim);
  sim.appliedRevision = before.appliedRevision;
  sim.send(sim.hello());
  await sim.waitFor((m) => m.type === "welcome");
  return sim;
}

/** Until `n` nodes have `status` (the fleet summary's count). */
export async function untilStatus(s: { api: Api }, status: NodeStatus, n: number): Promise<void> {
  await eventually(
    async () => (await s.api("/api/nodes")).body.summary.byStatus[status] === n || undefined,
    5000,
    `${n} nodes ${status}`,
  );
}

/**
 * Saves `yaml` over the current revision (`strategy`: as saved with it; none, the default);
 * its new revision and the one before (what every node ran).
 */
export async function save(
  s: { api: Api },
  yaml: string,
  strategy?: RolloutStrategy,
): Promise<{ revision: number; stable: number }> {
  const before = (await s.api("/api/config")).body;
  const put = await s.api("/api/config", {
    method: "PUT",
    body: { yaml, resourceVersion: before.resourceVersion, ...(strategy ? { strategy } : {}) },
  });
  if (put.status !== 200) throw new Error(`save: ${put.status} ${JSON.stringify(put.body)}`);
  return { revision: put.body.revision, stable: before.desiredRevision };
}

/** The bar of a rollout resumed after a restart with none of its `n` targets back yet. */
export const noneBack = (revision: number, n: number) => ({
  revision,
  finishedAt: null,
  total: n,
  done: 0,
  pending: n,
  offline: n,
  unseen: n,
  failed: 0,
  resumedAt: expect.any(Number),
});
