#!/usr/bin/env bash
# `npm run demo`: the dashboard on its file store plus three real "nodes" (network namespaces
# with their own iptables), one of them drifted on purpose. Ctrl-C cleans everything up.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
if [[ $(id -u) -ne 0 ]]; then
  cat >&2 <<'MSG'
npm run demo needs root: each demo node is a network namespace with its own iptables
(`ip netns add`, `iptables-restore`), which only root can create and change.
Run it as root (e.g. `sudo npm run demo`) on a Linux machine with iptables and iproute2
(Debian/Ubuntu: the demo installs them with apt-get when missing).
MSG
  exit 1
fi
IPMASQ_NEED_BROWSER=0 bash scripts/ensure-system.sh
bash scripts/ensure-deps.sh
if [[ ! -f apps/dashboard/.next/BUILD_ID || ! -f apps/reporter/dist/cli/main.js || ! -f packages/node-util/dist/index.js || -n $(find packages apps -path '*/node_modules' -prune -o -path '*/.next' -prune -o -path '*/dist' -prune -o -name '*.ts*' -newer apps/dashboard/.next/BUILD_ID -print -quit) ]]; then
  echo "building (first run, or sources changed)…" >&2
  npm run build >&2
fi
exec npx tsx scripts/demo.ts "$@"
