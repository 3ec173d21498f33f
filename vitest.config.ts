import { defineConfig } from "vitest/config";

// Tests import workspace packages through their "source" export condition, so unit tests run
// against src/ without a build.
const conditions = ["source", "node", "import", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "packages/*/src/**/*.test.ts",
            "apps/*/src/**/*.test.ts",
            "scripts/**/*.test.ts",
          ],
          environment: "node",
          // Vitest's default is one worker fewer than the cores: one on a 2-core CI machine.
          maxWorkers: 2,
          // A timeout is a hang detector, not a performance assertion (benchmarks measure):
          // room for a loaded 2-core CI machine.
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["apps/*/test/**/*.test.ts", "charts/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Two files at a time: the suite mostly waits on timers, reporters and sockets (about
          // 45 % of one core when run one file at a time), and nothing a test makes is shared:
          // namespaces carry the worker's pid (testkit uniqueNetnsName), every iptables call
          // takes the xtables lock with -w, and servers listen on port 0. More than two starves
          // the real reporters on a 2-core machine.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
