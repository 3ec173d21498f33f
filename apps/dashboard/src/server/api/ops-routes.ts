// /healthz, /readyz, /metrics (open: probes and Prometheus scrape them without credentials),
// and the live event stream GET /api/events.
import type { HelloEvent } from "@masq/shared";
import { stillAllowed } from "../auth/request-auth.js";
import type { ApiContext } from "./context.js";
import { rowOf } from "./node-summary.js";
import { sendJson } from "./respond.js";
import { type Route, route } from "./router.js";
import { allSummaries, configEvent, fleetSummary, rolloutView } from "./views.js";

export function opsRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: "GET",
      path: "/healthz",
      access: "public",
      // Alive even with problems (a restart would not fix them); they are listed for people.
      handler: ({ res }) => sendJson(res, 200, { ok: true, problems: ctx.readiness().problems }),
    }),
    route({
      method: "GET",
      path: "/readyz",
      access: "public",
      handler({ res }) {
        const r = ctx.readiness();
        sendJson(res, r.ready ? 200 : 503, {
          ok: r.ready,
          checks: r.checks,
          problems: r.problems,
          detail: r.detail,
        });
      },
    }),
    route({
      method: "GET",
      path: "/metrics",
      access: "public",
      async handler({ res }) {
        const text = await ctx.metrics.registry.metrics();
        res.writeHead(200, {
          "content-type": ctx.metrics.registry.contentType,
          "cache-control": "no-store",
        });
        res.end(text);
      },
    }),
    route({
      method: "GET",
      path: "/api/events",
      access: "viewer",
      handler({ req, res, auth }) {
        if (!auth?.ok) return; // the router authenticated this viewer route
        const state = ctx.config.current();
        const hello: HelloEvent = {
          nodes: allSummaries(ctx, (n) => rowOf(n, ctx)),
          summary: fleetSummary(ctx),
          config: configEvent(state, ctx.staged),
          rollout: rolloutView(ctx),
          staged: ctx.staged.view(),
          serverTime: Date.now(),
        };
        ctx.sse.attach(req, res, hello, {
          session: auth.via === "session" ? auth.session.id : undefined,
          stillAllowed: stillAllowed(req, auth, ctx.people, ctx.sessions),
        });
      },
    }),
  ];
}
