# syntax=docker/dockerfile:1
# The Linux node reporter (`ipmasq run`): Node + iptables (nft and legacy), ip6tables,
# iptables-restore, xtables-monitor, nft (nftables 1.0.6, for --backend nftables), stdbuf (coreutils) and iproute2 from Debian 12.
# Build context is the repository root:
#   docker build -f docker/reporter.Dockerfile -t ghcr.io/masq-dashboard/reporter:0.1.0 .
# (BuildKit reads docker/reporter.Dockerfile.dockerignore.)
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: the shared core, the Node helpers and the reporter (TypeScript → dist/).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
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
RUN npm run build -w packages/shared && npm run build -w packages/node-util && npm run build -w apps/reporter

# --- deps: production dependencies of the reporter workspace only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/node-util/package.json packages/node-util/
COPY apps/reporter/package.json apps/reporter/
COPY apps/dashboard/package.json apps/dashboard/
RUN npm ci --omit=dev --no-audit --no-fund --workspace apps/reporter \
 && mkdir -p apps/reporter/node_modules packages/shared/node_modules packages/node-util/node_modules \
 && npm cache clean --force

# --- runtime
FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables nftables iproute2 tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/packages/shared/node_modules ./packages/shared/node_modules
COPY --from=deps /app/packages/node-util/node_modules ./packages/node-util/node_modules
COPY --from=deps /app/apps/reporter/node_modules ./apps/reporter/node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/packages/shared/package.json ./packages/shared/
COPY --from=build /app/packages/shared/dist ./packages/shared/dist
COPY --from=build /app/packages/node-util/package.json ./packages/node-util/
COPY --from=build /app/packages/node-util/dist ./packages/node-util/dist
COPY --from=build /app/apps/reporter/package.json ./apps/reporter/
COPY --from=build /app/apps/reporter/bin ./apps/reporter/bin
COPY --from=build /app/apps/reporter/dist ./apps/reporter/dist
RUN ln -s /app/apps/reporter/bin/ipmasq.js /usr/local/bin/ipmasq
# Root: iptables needs CAP_NET_ADMIN in the host network namespace. The chart drops every other
# capability (NET_ADMIN + NET_RAW only, not privileged) and mounts the root filesystem read-only.
USER 0
EXPOSE 9102
# A small young generation keeps the idle reporter well under 80 MB RSS (docs/performance.md).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=1", "apps/reporter/bin/ipmasq.js"]
CMD ["run"]
