// GET /api/nodes, GET/DELETE /api/nodes/:name, POST /api/nodes/:name/evaluate,
// POST /api/nodes/:name/resync, POST /api/resync.
import {
  type BulkResyncResponse,
  type EvaluateResponse,
  evaluateRequestSchema,
  type Family,
  type MasqConfig,
  markEntriesNotInConfig,
  NOT_HEARD_SINCE_RESTART,
  type NodeRules,
  type NodesResponse,
  type NodeVerdicts,
  nodeNameSchema,
  nodeVerdicts,
  parseIp,
  polledRules,
  type RemovedResponse,
  type ResyncResponse,
  verdictView,
} from "@masq/shared";
import { z } from "zod";
import { HttpError } from "../errors.js";
import {
  assessmentOf,
  freshnessOf,
  type NodeAssessment,
  type NodeRecord,
  resyncCannotHealOf,
} from "../fleet/node.js";
import { fleetEntries, fleetNodes, type RemoteSummary, remoteOf } from "../replicas/fleet-view.js";
import type { ApiContext } from "./context.js";
import { listNodes, parseNodeListQuery } from "./node-list.js";
import { remoteNodeDetail, resyncAllElsewhere, resyncElsewhere } from "./node-remote.js";
import { nodeSummary, rowOf } from "./node-summary.js";
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
  if (n) return n;
  const held = name === undefined ? undefined : heldElsewhere(ctx, name);
  if (held)
    throw new HttpError(
      409,
      `node ${name} is held by replica ${held.heldBy.replica}: this replica has its NodeMasquerade status, not its rules`,
    );
  throw new HttpError(404, `no node named ${name}`);
}

/** The node as another replica's NodeMasquerade shows it, when that replica holds it. */
function heldElsewhere(ctx: ApiContext, name: string): RemoteSummary | undefined {
  const view = ctx.replicas?.sources();
  return view ? remoteOf(view, name) : undefined;
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
  ctx.fleet.assessmentNow(n);
  return evaluateOn(n, body, ctx.fleet.desiredOf(n.name)?.config);
}

/** The family's path analysis the node was judged with (an iptables node's one backend). */
function observedOf(a: NodeAssessment, family: Family) {
  return a.analyzed?.().find((f) => f.desired.family === family)?.observed;
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
  const a = assessmentOf(n);
  if (!n.snapshot)
    throw new HttpError(
      409,
      n.restored
        ? `node ${n.name}: ${NOT_HEARD_SINCE_RESTART}, so its rules are not known here; they are once its reporter reconnects and reports them`
        : `node ${n.name} has not reported its rules yet`,
    );
  if (!a) throw new HttpError(409, "there is no valid desired config to compare with");
  const fam = a.families.find((f) => f.desired.family === ip.family);
  if (!fam)
    throw new HttpError(
      400,
      `${ipText} is ${ip.family}, which node ${n.name} does not manage (agent flag --enable-ipv6 is off): its reporter reads no ${ip.family} rules, so what the node does with this address is not known here`,
    );
  // Every backend that reported this family acts on the same packets; on a native nftables
  // node, every nat postrouting chain in priority order (iptables' of each backend holding
  // rules among them), and the desired side is the agent's table, not the iptables chain.
  const nft = a.nft?.assessment.families.find((f) => f.family === ip.family);
  const snaps = (n.snapshot.linux ?? []).filter((s) => s.family === ip.family);
  const observed = nft || snaps.length > 1 ? undefined : observedOf(a, ip.family);
  const rules: NodeRules = nft
    ? { kind: "nftables", actual: nft, desired: a.nft!.desired(ip.family) }
    : { kind: "iptables", snaps, desired: fam.desired, ...(observed ? { observed } : {}) };
  const verdicts = nodeVerdicts(rules, ip.text, fields);
  if ("error" in verdicts) throw new HttpError(400, verdicts.error);
  return evaluateResponse(n, verdicts, config);
}

/** The tester's answer: the node's verdict checked against its config, and how current it is. */
function evaluateResponse(
  n: NodeRecord,
  { desired, actual, backends }: NodeVerdicts,
  config: MasqConfig | undefined,
): EvaluateResponse {
  // The node's rule may stand for an entry this node's desired config does not list.
  const checked = config ? markEntriesNotInConfig(actual, config) : actual;
  const fresh = freshnessOf(n);
  // Live rules of a polled backend (legacy) may miss a change made since the last poll.
  const polled =
    fresh.liveness === "live" ? polledRules(n.hello.backend, backends, fresh.lastReportAt) : null;
  return {
    desired,
    actual: checked,
    view: { desired: verdictView(desired), actual: verdictView(checked) },
    backends,
    rules: fresh,
    ...(polled ? { polled } : {}),
  };
}

interface Selection {
  wanted: Set<string> | undefined;
  status: string | undefined;
  by: string;
}

/** POST /api/resync: the nodes held here resynced, those held elsewhere asked of their holder. */
async function bulkResync(
  ctx: ApiContext,
  body: z.output<typeof bulkResyncBody>,
  user: string,
): Promise<BulkResyncResponse> {
  const how = body.nodes
    ? `resync of ${body.nodes.length} selected node(s)`
    : body.status === "drifted"
      ? "resync of all drifted nodes"
      : "resync of every node";
  const sel: Selection = {
    wanted: body.nodes ? new Set(body.nodes) : undefined,
    status: body.status,
    by: `${user}, ${how}`,
  };
  const view = ctx.replicas?.sources();
  const elsewhere = view ? [...fleetNodes(view)].filter((n) => !("hello" in n)) : [];
  const remote = new Set(elsewhere.map((n) => n.name));
  const skipped: BulkResyncResponse["skipped"] = [];
  for (const name of sel.wanted ?? [])
    if (!ctx.fleet.nodes.has(name) && !remote.has(name))
      skipped.push({ name, reason: "unknown node" });
  const here = await resyncHere(ctx, sel, remote, skipped);
  const asked = await resyncAllElsewhere(ctx, elsewhere as RemoteSummary[], sel);
  skipped.push(...asked.skipped);
  const out: BulkResyncResponse = {
    nodes: [...here, ...asked.requested.map((r) => r.name)].sort(),
    skipped,
  };
  if (asked.requested.length > 0) {
    out.requested = asked.requested;
    out.requestBacklog = ctx.replicas!.resyncRequests.backlog();
  }
  return out;
}

/** The selected nodes this replica holds (not those held elsewhere now), resynced one by one. */
async function resyncHere(
  ctx: ApiContext,
  sel: Selection,
  elsewhere: Set<string>,
  skipped: BulkResyncResponse["skipped"],
): Promise<string[]> {
  const done: string[] = [];
  // "All drifted" leaves out nodes a resync would not change (as its count, driftedResync).
  const chosen = (n: NodeRecord) =>
    (!sel.wanted || sel.wanted.has(n.name)) &&
    !elsewhere.has(n.name) &&
    (!sel.status || (n.status === sel.status && resyncCannotHealOf(n) === undefined));
  for (const n of ctx.fleet.nodes.values()) {
    if (!chosen(n)) continue;
    if (!n.connected) {
      if (sel.wanted) skipped.push({ name: n.name, reason: "offline" });
      continue;
    }
    const failed = await resyncOne(ctx, n, sel.by).then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    if (failed === undefined) done.push(n.name);
    else skipped.push({ name: n.name, reason: failed });
  }
  return done;
}

export function nodeRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: "GET",
      path: "/api/nodes",
      access: "viewer",
      handler({ res, url }) {
        const view = ctx.replicas?.sources();
        const query = parseNodeListQuery(url.searchParams);
        const row = (n: NodeRecord | RemoteSummary) => rowOf(n, ctx);
        const page = view
          ? listNodes(fleetEntries(view), query, (e) => row(e.node()))
          : listNodes(ctx.fleet.nodes.values(), query, row);
        const body: NodesResponse = { ...page, summary: fleetSummary(ctx), serverTime: Date.now() };
        sendJson(res, 200, body);
      },
    }),
    route({
      method: "GET",
      path: "/api/nodes/:name",
      access: "viewer",
      handler({ res, params }) {
        const held = heldElsewhere(ctx, params.name ?? "");
        if (held)
          return sendJson(
            res,
            200,
            remoteNodeDetail(held, Date.now(), ctx.replicas?.podNamespace ?? null),
          );
        const n = nodeOf(ctx, params.name);
        // Judged first through the fleet: a judgement put off at a push refreshes the row.
        ctx.fleet.assessmentNow(n);
        const detail = nodeDetail(n, Date.now());
        const node = { ...detail.node, ...nodeSummary(n, ctx) };
        sendJson(res, 200, { ...detail, node, rollout: node.rollout ?? null });
      },
    }),
    route({
      method: "DELETE",
      path: "/api/nodes/:name",
      access: "editor",
      async handler({ res, params }) {
        const r = ctx.fleet.forget(params.name ?? "");
        if (!r.ok) throw new HttpError(r.status, r.error);
        // Out of the roster before the answer: a crash right after must not list it again. Out
        // of the kept events too: its reporter back before a crash, it is listed again, and
        // must not take back the timeline it had before it was removed.
        await Promise.all([ctx.roster?.writeNow(), ctx.nodeEvents?.writeNow()]);
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
        const held = heldElsewhere(ctx, params.name ?? "");
        if (held) return sendJson(res, 202, await resyncElsewhere(ctx, held, principal!.user));
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
        sendJson(res, 202, await bulkResync(ctx, body, principal!.user));
      },
    }),
  ];
}
