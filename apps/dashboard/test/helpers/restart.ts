// A dashboard restarted on its data dir in the middle of a rollout, and the fleet bar read after
// it (rollout-bar-restart*.test.ts).
import type { MasqConfig, Rollout } from "@masq/shared";
import { SimReporter } from "./reporter-client.js";
import { eventually, type perTest, reporterToken, startServer, type TestServer } from "./server.js";

type PerTest = ReturnType<typeof perTest>;

export const barOf = async (s: TestServer): Promise<Rollout | null> =>
  (await s.api("/api/nodes")).body.summary.rollout;

/** The fleet bar once `check` holds for it (its last value said when it never does). */
export async function barWhen(
  s: TestServer,
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
