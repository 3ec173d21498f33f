# syntax=docker/dockerfile:1
# The dashboard image: Next.js UI + custom Node server (HTTP API, reporter WebSocket gateway).
# Build context is the repository root:
#   docker build -f docker/dashboard.Dockerfile -t ghcr.io/masq-dashboard/dashboard:0.1.0 .
# (BuildKit reads docker/dashboard.Dockerfile.dockerignore.)
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: every workspace, as CI builds it (`npm ci && npm run build` at the root).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/node-util/package.json packages/node-util/
COPY apps/reporter/package.json apps/reporter/
COPY apps/dashboard/package.json apps/dashboard/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/shared/ packages/shared/
COPY packages/node-util/ packages/node-util/
COPY apps/reporter/ apps/reporter/
COPY apps/dashboard/ apps/dashboard/
RUN npm run build && rm -rf apps/dashboard/.next/cache

# --- deps: production dependencies of the dashboard workspace only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/node-util/package.json packages/node-util/
COPY apps/reporter/package.json apps/reporter/
COPY apps/dashboard/package.json apps/dashboard/
RUN npm ci --omit=dev --no-audit --no-fund --workspace apps/dashboard \
 && mkdir -p apps/dashboard/node_modules packages/shared/node_modules packages/node-util/node_modules \
 && npm cache clean --force

# --- runtime
FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    PORT=3000 \
    HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/packages/shared/node_modules ./packages/shared/node_modules
COPY --from=deps /app/packages/node-util/node_modules ./packages/node-util/node_modules
COPY --from=deps /app/apps/dashboard/node_modules ./apps/dashboard/node_modules
COPY --from=build /app/package.json /app/tsconfig.base.json ./
COPY --from=build /app/packages/shared/package.json ./packages/shared/
COPY --from=build /app/packages/shared/dist ./packages/shared/dist
COPY --from=build /app/packages/node-util/package.json ./packages/node-util/
COPY --from=build /app/packages/node-util/dist ./packages/node-util/dist
COPY --from=build /app/apps/dashboard/package.json /app/apps/dashboard/next.config.ts /app/apps/dashboard/tsconfig.json ./apps/dashboard/
COPY --from=build /app/apps/dashboard/bin ./apps/dashboard/bin
COPY --from=build /app/apps/dashboard/dist ./apps/dashboard/dist
COPY --from=build /app/apps/dashboard/.next ./apps/dashboard/.next
# Writable at run time even with readOnlyRootFilesystem (the chart mounts emptyDirs on both).
RUN mkdir -p apps/dashboard/.next/cache && chown 1000:1000 apps/dashboard/.next/cache
# The `node` user of the base image, numeric so that runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
# GET /healthz (liveness), GET /readyz (readiness), GET /metrics, all on PORT.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "apps/dashboard/bin/ipmasq-dashboard.js"]
