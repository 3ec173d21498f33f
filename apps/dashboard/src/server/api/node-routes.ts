// GET /api/nodes, GET/DELETE /api/nodes/:name, POST /api/nodes/:name/evaluate,
// POST /api/nodes/:name/resync, POST /api/resync.
import {
  type BulkResyncResponse,
  desiredAnalysis,
  type EvaluateResponse,
  evaluate,
  evaluateNft,
  evaluateRequestSchema,
  evaluateSnapshots,
  type MasqConfig,
  markEntriesNotInConfig,
  type NodesResponse,
  nodeNameSchema,
  parseIp,
  type RemovedResponse,
  type ResyncResponse,
  verdictView,
} from "@masq/shared";
import { z } from "zod";
import { HttpError } from "../errors.js";
import { freshnessOf, type NodeRecord } from "../fleet/node.js";
import type { ApiContext } from "./context.js";
import { listNodes, parseNodeListQuery } from "./node-list.js";
import { nodeSummary } from "./node-summary.js";
import { sendJson } from "./respond.js";
import { type Route, route } from "./router.js";
import { fleetSummary, nodeDetail } from "./views.js";

const emptyBody = z.strictObject({});
const bulkResyncBody = z.strictObject({
  nodes: z.array(nodeNameSchema).max(10_000).optional(),
  status: z.literal("drifted").optional(),
});

function nodeOf(ctx: ApiContext, name: string | undefined): NodeRecord {
  const n = name === undefined ? undefined : ctx.fleet.nodes.get(name);
  if (!n) throw new HttpError(404, `no node named ${name}`);
  return n;
}

/**
 * Resyncs one node: a resync message (enforce) or a restart of the upstream agent (observe).
 * `by`: who asked and how, for the node's timeline.
 */
async function resyncOne(ctx: ApiContext, n: NodeRecord, by: string): Promise<string> {
  if (n.hello.mode === "observe") {
    if (!n.connected) throw new HttpError(409, `node ${n.name} is offline`);
    if (!ctx.observeResync) {
      throw new HttpError(
        409,
        `node ${n.name} is in observe mode: the upstream ip-masq-agent owns its rules; set IPMASQ_OBSERVE_RESYNC=true to let resync recreate that agent's pod`,
      );
    }
    const pods = await ctx.observeResync.restart(n.name);
    const requestId = `restart:${pods.join(",")}`;
    ctx.fleet.noteEvent(
      n.name,
      "resync-requested",
      `deleted upstream agent pod ${pods.join(", ")} so it re-applies the config (by ${by})`,
    );
    return requestId;
  }
  const r = ctx.fleet.resync(n.name, by);
  if (!r.ok) throw new HttpError(r.status, r.error);
  return r.requestId;
}

/**
 * Both verdicts for one packet; the node's across every backend that reported the family, from
 * its last known rules when not live. Errors: 400 for a bad field or a family the node does not
 * manage, 409 before the first snapshot.
 */
/** evaluateOn with the config this node is judged against (its wave's revision). */
function evaluateIn(
  ctx: ApiContext,
  name: string | undefined,
  body: z.output<typeof evaluateRequestSchema>,
): EvaluateResponse {
  const n = nodeOf(ctx, name);
  return evaluateOn(n, body, ctx.fleet.desiredOf(n.name)?.config);
}

function evaluateOn(
  n: NodeRecord,
  body: z.output<typeof evaluateRequestSchema>,
  config: MasqConfig | undefined,
): EvaluateResponse {
  const { ip: ipText, ...fields } = body;
  const ip = parseIp(ipText);
  if (!ip) throw new HttpError(400, `"${ipText}" is not an IP address`);
  if (n.hello.os === "windows")
    throw new HttpError(400, "evaluate is not available for Windows nodes yet");
  if (!n.assessment || !n.snapshot)
    throw new HttpError(409, `node ${n.name} has not reported its rules yet`);
  const fam = n.assessment.families.find((f) => f.desired.family === ip.family);
  if (!fam)
    throw new HttpError(
      400,
      `${ipText} is ${ip.family}, which node ${n.name} does not manage (agent flag --enable-ipv6 is off): its reporter reads no ${ip.family} rules, so what the node does with this address is not known here`,
    );
  const desired = evaluate(desiredAnalysis(fam.desired), ip.text, fields);
  if ("error" in desired) throw new HttpError(400, desired.error);
  // Every backend that reported this family acts on the same packets; on a native nftables
  // node, every nat postrouting chain in priority order.
  const snaps = (n.snapshot.linux ?? []).filter((s) => s.family === ip.family);
  const nft = n.assessment.nft?.assessment.families.find((f) => f.family === ip.family);
  const actual = nft
    ? evaluateNft(nft, ip.text, fields)
    : snaps.length > 1
      ? evaluateSnapshots(snaps, fam.desired.chain, ip.text, fields)
      : evaluate(fam.observed, ip.text, fields);
  if ("error" in actual) throw new HttpError(400, actual.error);
  // The node's rule may stand for an entry this node's desired config does not list.
  const checked = config ? markEntriesNotInConfig(actual, config) : actual;
  return {
    desired,
    actual: checked,
    view: { desired: verdictView(desired), actual: verdictView(checked) },
    backends: snaps.map((s) => s.backend),
    rules: freshnessOf(n),
  };
}

export function nodeRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: "GET",
      path: "/api/nodes",
      access: "viewer",
      handler({ res, url }) {
        const query = parseNodeListQuery(url.searchParams);
        const page = listNodes(ctx.fleet.nodes.values(), query, (n) => nodeSummary(n, ctx));
        const body: NodesResponse = { ...page, summary: fleetSummary(ctx), serverTime: Date.now() };
        sendJson(res, 200, body);
      },
    }),
    route({
      method: "GET",
      path: "/api/nodes/:name",
      access: "viewer",
      handler({ res, params }) {
        const n = nodeOf(ctx, params.name);
        const detail = nodeDetail(n, Date.now());
        const node = { ...detail.node, ...nodeSummary(n, ctx) };
        sendJson(res, 200, { ...detail, node, rollout: ctx.staged.placeOf(n.name) });
      },
    }),
    route({
      method: "DELETE",
      path: "/api/nodes/:name",
      access: "editor",
      handler({ res, params }) {
        const r = ctx.fleet.forget(params.name ?? "");
        if (!r.ok) throw new HttpError(r.status, r.error);
        sendJson(res, 200, { removed: params.name ?? "" } satisfies RemovedResponse);
      },
    }),
    route({
      method: "POST",
      path: "/api/nodes/:name/evaluate",
      access: "viewer",
      body: evaluateRequestSchema,
      handler: ({ res, params, body }) => sendJson(res, 200, evaluateIn(ctx, params.name, body)),
    }),
    route({
      method: "POST",
      path: "/api/nodes/:name/resync",
      access: "editor",
      body: emptyBody,
      async handler({ res, params, principal }) {
        const n = nodeOf(ctx, params.name);
        const body: ResyncResponse = { requestId: await resyncOne(ctx, n, principal!.user) };
        sendJson(res, 202, body);
      },
    }),
    route({
      method: "POST",
      path: "/api/resync",
      access: "editor",
      body: bulkResyncBody,
      async handler({ res, body, principal }) {
        const wanted = body.nodes ? new Set(body.nodes) : undefined;
        const how = body.nodes
          ? `resync of ${body.nodes.length} selected node(s)`
          : body.status === "drifted"
            ? "resync of all drifted nodes"
            : "resync of every node";
        const by = `${principal!.user}, ${how}`;
        const done: string[] = [];
        const skipped: { name: string; reason: string }[] = [];
        for (const name of wanted ?? [])
          if (!ctx.fleet.nodes.has(name)) skipped.push({ name, reason: "unknown node" });
        for (const n of ctx.fleet.nodes.values()) {
          if (wanted && !wanted.has(n.name)) continue;
          if (body.status && n.status !== body.status) continue;
          if (!n.connected) {
            if (wanted) skipped.push({ name: n.name, reason: "offline" });
            continue;
          }
          try {
            await resyncOne(ctx, n, by);
            done.push(n.name);
          } catch (e) {
            skipped.push({ name: n.name, reason: e instanceof Error ? e.message : String(e) });
          }
        }
        sendJson(res, 202, { nodes: done.sort(), skipped } satisfies BulkResyncResponse);
      },
    }),
  ];
}
