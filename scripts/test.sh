#!/usr/bin/env bash
# `npm test`: sets up a fresh Debian machine (as root) and runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
t0=$SECONDS

step "system packages"
bash scripts/ensure-system.sh
step "npm dependencies"
bash scripts/ensure-deps.sh
if [[ $(id -u) -ne 0 ]]; then
  echo "npm test runs real iptables in network namespaces and must run as root" >&2
  exit 1
fi

step "build"
npm run build

# After the build: Next generates the route types the dashboard's tsconfig includes.
step "lint (biome) and types (tsc --noEmit)"
npx biome check .
npm run typecheck

step "unit tests"
npx vitest run --project unit

step "integration tests (network namespaces, real iptables, helm)"
npx vitest run --project integration

step "end-to-end tests (Playwright, Debian chromium)"
npx playwright test

echo "all suites passed in $((SECONDS - t0)) s"
