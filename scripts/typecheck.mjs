// `npm run typecheck`: every TypeScript project checked with `tsc --noEmit`, as many at once as
// the machine has cores. Each tsc is single-threaded: one after another left a CI core idle for
// most of a minute and a half. Each project's output is printed whole when it ends.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules/typescript/bin/tsc");

/** Project files (tsconfig paths from the repository root), the largest first. */
const PROJECTS = [
  "apps/dashboard/tsconfig.json",
  "apps/dashboard/tsconfig.server-check.json",
  "apps/reporter/tsconfig.json",
  "packages/testkit/tsconfig.json",
  "apps/dashboard/e2e/tsconfig.json",
  "packages/shared/tsconfig.json",
  "packages/node-util/tsconfig.json",
  "tsconfig.json",
];

function check(project) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, "-p", project, "--noEmit"], { cwd: root });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("close", (code) => {
      const s = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`tsc -p ${project}: ${code === 0 ? "ok" : "FAILED"} (${s} s)\n${out}`);
      resolve(code === 0);
    });
  });
}

const queue = [...PROJECTS];
const workers = Array.from({ length: Math.min(availableParallelism(), queue.length) }, async () => {
  let ok = true;
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) ok = (await check(p)) && ok;
  return ok;
});
const results = await Promise.all(workers);
if (!results.every(Boolean)) process.exit(1);
