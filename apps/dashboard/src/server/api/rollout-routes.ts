// GET /api/rollout, POST /api/rollout/promote|retry|abort: the staged rollout of the newest
// change and the operator's moves on it, each recorded with who made it.
import type { StagedRolloutView } from "@masq/shared";
import { z } from "zod";
import { HttpError } from "../errors.js";
import { REQUEST_CONFIRM_MS, type RequestAnswer } from "../fleet/staged-move.js";
import type { ApiContext } from "./context.js";
import { sendJson } from "./respond.js";
import { type Route, route } from "./router.js";

const promoteBody = z.strictObject({ full: z.boolean().optional() });
const emptyBody = z.strictObject({});

/** GET /api/rollout and the bodies of its actions. */
export interface RolloutResponse {
  rollout: StagedRolloutView | null;
  /** A move asked on a replica that does not own the rollout: what was done instead. */
  requested?: string;
}

function answer(r: RequestAnswer): RolloutResponse {
  if (!r.ok) throw new HttpError(409, r.error);
  return { rollout: r.view };
}

type Move = "promote" | "retry" | "abort";

/**
 * A move: made here by the rollout's owner, or (another replica holds the singleton Lease)
 * requested of it: 200 once the owner stored it, 409 when it refused it, else (no word within
 * the wait) 202, the rollout as it is now, and that the move is not confirmed yet.
 */
async function move(
  ctx: ApiContext,
  res: Parameters<typeof sendJson>[0],
  m: Move,
  user: string,
  full = false,
) {
  if (!ctx.staged.ownedElsewhere) {
    // Answered once its state is written: 409/503 with why not, never a move not made.
    const r = await ctx.staged.move(m, user, full);
    if (!r.ok) throw new HttpError(r.status, r.error);
    return sendJson(res, 200, { rollout: r.view } satisfies RolloutResponse);
  }
  const asked = await ctx.staged.request(m, user, full);
  const r = answer(asked);
  // The owner's word within the wait: made (200) or refused (409, by answer).
  if (asked.ok && asked.confirmed) return sendJson(res, 200, r satisfies RolloutResponse);
  const via = ctx.replicas?.replica ?? "this replica";
  sendJson(res, 202, {
    ...r,
    requested: `${m} requested via replica ${via}, not confirmed yet: the replica holding the singleton Lease has not stored it within ${REQUEST_CONFIRM_MS / 1000} s; the rollout shows it once done, or why it was not made`,
  } satisfies RolloutResponse);
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
        move(ctx, res, "promote", principal!.user, body.full ?? false),
    }),
    ...(["retry", "abort"] as const).map((action) =>
      route({
        method: "POST",
        path: `/api/rollout/${action}`,
        access: "editor",
        body: emptyBody,
        handler: ({ res, principal }) => move(ctx, res, action, principal!.user),
      }),
    ),
  ];
}
