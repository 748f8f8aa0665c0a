#!/usr/bin/env bash
# The embedded flag server against nginx serving the same file, measured in
# the same run: requests/s on /flags/br/br.gif under `wrk -t1 -c64`
# (keep-alive), one server at a time, each with 2 worker threads/processes.
# Installs wrk and nginx from the OS packages when missing (run as root).
# Usage: scripts/server-vs-nginx.sh [SECONDS]   (default 10 per server)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
source scripts/nginx-common.sh
need_tools wrk nginx

rps() { # URL -> requests/s
  wrk -t1 -c64 -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2}'
}

start_flags_server
mkdir -p "$work/root/flags/br"
curl -sf -o "$work/root/flags/br/br.gif" "$flags_base/br/br.gif"
curl -sf "$flags_base/br/br.gif" >/dev/null # warm
flags_rps=$(rps "$flags_base/br/br.gif")
kill %1; wait %1 2>/dev/null || true

start_nginx br/br.gif
cmp <(curl -sf "$nginx_base/br/br.gif") "$work/root/flags/br/br.gif"
nginx_rps=$(rps "$nginx_base/br/br.gif")

echo "wrk -t1 -c64 -d${secs}s on /flags/br/br.gif (11 623 bytes), keep-alive:"
printf '  flags serve  %12s requests/s\n' "$flags_rps"
printf '  nginx        %12s requests/s\n' "$nginx_rps"
awk -v f="$flags_rps" -v n="$nginx_rps" 'BEGIN { printf "  flags / nginx = %.2f\n", f / n }'
