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
          // Network namespaces and iptables are machine-global: run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
