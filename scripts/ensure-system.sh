#!/usr/bin/env bash
# Installs the system packages the tests and the demo need (Debian/Ubuntu, as root), once.
set -euo pipefail
need=()
command -v iptables >/dev/null || need+=(iptables)
command -v xtables-monitor >/dev/null || need+=(iptables)
command -v nft >/dev/null || need+=(nftables)
command -v ip >/dev/null || need+=(iproute2)
command -v stdbuf >/dev/null || need+=(coreutils)
command -v unzip >/dev/null || need+=(unzip)
command -v ipset >/dev/null || need+=(ipset)
if [[ "${IPMASQ_NEED_BROWSER:-1}" == 1 ]] && ! command -v chromium >/dev/null; then need+=(chromium); fi
if ((${#need[@]} == 0)); then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing system packages: ${need[*]} — install them as root (apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
