// The demo's environment, checked before anything starts (no run claimed, no namespace made):
// empty means unset, and a port that is not a whole number in 1–65535 is refused naming its
// variable. Empty was taken as a value: DEMO_PORT="" became port 0 (the dashboard then listened
// on a random port the demo never learnt), IPMASQ_ADMIN_TOKEN="" a token the dashboard ignores.
import { zodReason } from "@masq/shared";
import { z } from "zod";

/** Unset, empty or blank: undefined; else trimmed. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined), schema);

/** zodReason names the variable: the message says what is wrong with its value. */
const port = () =>
  optional(
    z
      .string()
      .refine((v) => /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535, {
        error: (i) => `${JSON.stringify(i.input)} is not a port (a whole number, 1–65535)`,
      })
      .transform(Number)
      .optional(),
  );

const demoEnvSchema = z.object({
  HOST: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]+$/, "must be a host name or an IP address")
      .default("127.0.0.1"),
  ),
  DEMO_PORT: port(),
  PORT: port(),
  IPMASQ_ADMIN_TOKEN: optional(z.string().optional()),
});

export interface DemoEnv {
  host: string;
  /** DEMO_PORT, else PORT; unset: the first free one from 3000. */
  port?: number;
  /** Unset: the demo makes one. */
  adminToken?: string;
}

export function parseDemoEnv(env: Record<string, string | undefined>): DemoEnv {
  const r = demoEnvSchema.safeParse(env);
  if (!r.success)
    throw new Error(`demo: ${zodReason(r.error, { issues: 3, root: "environment" })}`);
  const { HOST, DEMO_PORT, PORT, IPMASQ_ADMIN_TOKEN } = r.data;
  const port = DEMO_PORT ?? PORT;
  return {
    host: HOST,
    ...(port === undefined ? {} : { port }),
    ...(IPMASQ_ADMIN_TOKEN === undefined ? {} : { adminToken: IPMASQ_ADMIN_TOKEN }),
  };
}
