import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

// The UI is served by the custom server in src/server (next({ dir: apps/dashboard })), which
// answers /api/* itself; everything here is pages and static assets. Nothing is fetched at
// build or run time (system fonts, no CDN, no telemetry).
// The repository root (npm workspaces hoist dependencies there), wherever the process starts.
const root = fileURLToPath(new URL("../..", import.meta.url));

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  productionBrowserSourceMaps: false,
  turbopack: { root },
  outputFileTracingRoot: root,
};

export default nextConfig;
