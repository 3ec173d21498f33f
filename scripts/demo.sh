#!/usr/bin/env bash
# `npm run demo`: the dashboard on its file store plus four real "nodes" (network namespaces
# with their own iptables), one of them drifted on purpose. Ctrl-C cleans everything up.
#
# SIGINT or SIGTERM to any process of `npm run demo` stops it: npm forwards them to its child,
# and every layer below npm is exec'd away (package.json runs `exec bash scripts/demo.sh`, which
# ends in `exec node scripts/demo.ts`), so npm's child is this script, then the demo itself.
# The steps before (apt, npm ci, the build) run in their own process group, waited for with
# `wait`, which a trapped signal interrupts (bash defers traps until a foreground child ends).
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

set -m # each step gets its own process group, so stopping it stops its children too
step_pid=
stop_step() {
  trap - INT TERM HUP
  if [[ -n $step_pid ]]; then kill -TERM -- "-$step_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  echo "demo stopped before it started" >&2
  exit 130
}
trap stop_step INT TERM HUP
step() {
  "$@" &
  step_pid=$!
  local rc=0
  wait "$step_pid" || rc=$?
  step_pid=
  return "$rc"
}

step env IPMASQ_NEED_BROWSER=0 bash scripts/ensure-system.sh
step bash scripts/ensure-deps.sh
if [[ ! -f apps/dashboard/.next/BUILD_ID || ! -f apps/reporter/dist/cli/main.js || ! -f packages/node-util/dist/index.js || -n $(find packages apps -path '*/node_modules' -prune -o -path '*/.next' -prune -o -path '*/dist' -prune -o -name '*.ts*' -newer apps/dashboard/.next/BUILD_ID -print -quit) ]]; then
  echo "building (the first run takes about two minutes; later runs only when sources changed)…" >&2
  step npm run build >&2
fi
trap - INT TERM HUP
set +m
exec node --import tsx scripts/demo.ts "$@"
