#!/usr/bin/env bash
# The embedded flag server against nginx serving the same file, measured in
# the same run: requests/s on /flags/br/br.gif under `wrk -t1 -c64`
# (keep-alive), one server at a time, each with 2 worker threads/processes.
# Installs wrk and nginx from the OS packages when missing (run as root).
# Usage: scripts/server-vs-nginx.sh [SECONDS]   (default 10 per server)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q "$tool" >/dev/null
  fi
done
cargo build --release -q
flags=target/release/flags
work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as an unprivileged user
cleanup() { kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

rps() { # URL -> requests/s
  wrk -t1 -c64 -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2}'
}

# The embedded server, on a free port.
"$flags" serve --port 0 >"$work/flags.log" 2>&1 &
for _ in $(seq 50); do grep -q 'http://' "$work/flags.log" && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*/flags' "$work/flags.log" | head -1)
mkdir -p "$work/root/flags/br"
curl -sf -o "$work/root/flags/br/br.gif" "$base/br/br.gif"
curl -sf "$base/br/br.gif" >/dev/null # warm
flags_rps=$(rps "$base/br/br.gif")
kill %1; wait %1 2>/dev/null || true

# nginx on the same bytes, tuned as a static server would be.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
daemon off;
error_log $work/error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 1000000;
  types { image/gif gif; }
  server { listen 127.0.0.1:$port; root $work/root; }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" &
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/flags/br/br.gif" && break; sleep 0.1; done
cmp <(curl -sf "http://127.0.0.1:$port/flags/br/br.gif") "$work/root/flags/br/br.gif"
nginx_rps=$(rps "http://127.0.0.1:$port/flags/br/br.gif")

echo "wrk -t1 -c64 -d${secs}s on /flags/br/br.gif (11 623 bytes), keep-alive:"
printf '  flags serve  %12s requests/s\n' "$flags_rps"
printf '  nginx        %12s requests/s\n' "$nginx_rps"
awk -v f="$flags_rps" -v n="$nginx_rps" 'BEGIN { printf "  flags / nginx = %.2f\n", f / n }'
