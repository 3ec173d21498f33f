#!/usr/bin/env bash
# `npm ci` when node_modules is missing or older than package-lock.json.
set -euo pipefail
stamp=node_modules/.ipmasq-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi
