// Bin entry (`ipmasq-dashboard`): environment → parts → server with Next.js; graceful stop.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "./env.js";
import { createDashboardServer } from "./http-server.js";
import { createLogger } from "./log.js";
import { setupFromEnv } from "./setup.js";

/** apps/dashboard, from dist/server/main.js (or src/server/main.ts under tsx). */
const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const log = createLogger(env.IPMASQ_LOG_LEVEL);
  const setup = await setupFromEnv(env, log);
  for (const s of setup.generated) {
    // Printed once, at the start that created it; afterwards read it from the file.
    console.log(`Generated ${s.name} (stored in ${s.file}, mode 0600):\n  ${s.value}\n  ${s.use}`);
  }
  await setup.lease?.start();
  const server = await createDashboardServer({
    ...setup.options,
    next: env.IPMASQ_UI ? { dir: APP_DIR } : false,
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    // The rollout state written before the singleton Lease is released: once released, the next
    // owner reads it at once, and the writer no longer writes what it still holds.
    await server.staged.flush();
    await setup.lease?.close();
    await server.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((e) => {
  console.error(`ipmasq-dashboard: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
