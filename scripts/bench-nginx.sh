#!/usr/bin/env bash
# W2 as the issue states it: the 194 flags from nginx, no latency, -m 100,
# every style next to curl, aria2c and wget2, in one `flags bench` run.
# nginx serves a copy of the embedded server's 194 images laid out like the
# book's site ({cc}/{cc}.gif), so no image file is needed.
# Installs nginx from the OS packages when missing (run as root).
# Writes OUT/bench.json, OUT/bench.svg and OUT/BENCHMARKS.md.
# Usage: scripts/bench-nginx.sh [RUNS] [OUT]   (default 15 runs, out bench/nginx)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
out=${2:-bench/nginx}
source scripts/nginx-common.sh
need_tools nginx curl

start_flags_server
"$flags" get -a --json -s "$flags_base" -d "$work/flat" >/dev/null
for gif in "$work"/flat/*.gif; do
  cc=$(basename "$gif" .gif)
  mkdir -p "$work/root/flags/$cc"
  mv "$gif" "$work/root/flags/$cc/$cc.gif"
done
stop_flags_server

start_nginx br/br.gif
cmp <(curl -sf "$nginx_base/br/br.gif") "$work/root/flags/br/br.gif"
"$flags" bench --server "$nginx_base" --workloads W2 --peers --runs "$runs" --out "$out" --markdown "$out/BENCHMARKS.md"
