// GET /api/rollout, POST /api/rollout/promote|retry|abort: the staged rollout of the newest
// change and the operator's moves on it, each recorded with who made it.
import type { StagedRolloutView } from "@masq/shared";
import { z } from "zod";
import { HttpError } from "../errors.js";
import type { ActionResult } from "../fleet/staged-rollout.js";
import type { ApiContext } from "./context.js";
import { sendJson } from "./respond.js";
import { type Route, route } from "./router.js";

const promoteBody = z.strictObject({ full: z.boolean().optional() });
const emptyBody = z.strictObject({});

/** GET /api/rollout and the bodies of its actions. */
export interface RolloutResponse {
  rollout: StagedRolloutView | null;
}

function answer(r: ActionResult): RolloutResponse {
  if (!r.ok) throw new HttpError(409, r.error);
  return { rollout: r.view };
}

export function rolloutRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: "GET",
      path: "/api/rollout",
      access: "viewer",
      handler: ({ res }) =>
        sendJson(res, 200, { rollout: ctx.staged.view() } satisfies RolloutResponse),
    }),
    route({
      method: "POST",
      path: "/api/rollout/promote",
      access: "editor",
      body: promoteBody,
      handler: ({ res, body, principal }) =>
        sendJson(res, 200, answer(ctx.staged.promote(principal!.user, body.full ?? false))),
    }),
    ...(["retry", "abort"] as const).map((action) =>
      route({
        method: "POST",
        path: `/api/rollout/${action}`,
        access: "editor",
        body: emptyBody,
        handler: ({ res, principal }) =>
          sendJson(res, 200, answer(ctx.staged[action](principal!.user))),
      }),
    ),
  ];
}
