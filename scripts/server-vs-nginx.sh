#!/usr/bin/env bash
# The flag server against nginx, measured in the same run: requests/s and
# server CPU time per request on /flags/br/br.gif under `wrk -t1 -c64`
# (keep-alive), for
#   flags serve             (the embedded catalog)
#   flags serve --dir DIR   (files on disk)
#   nginx                   (the same DIR; 2 workers, sendfile, no access log)
# each with WORKERS threads or worker processes (2 unless the environment
# says otherwise: WORKERS=1 scripts/server-vs-nginx.sh). The three run side by side and
# wrk visits them round-robin, ROUNDS times, SECONDS each; the medians are
# printed (see scripts/wrk-compare.py).
# DIR is a directory laid out like the unpacked flags.zip (DIR/br/br.gif);
# without one, the embedded server's 194 images are written out as such.
# Installs wrk and nginx from the OS packages when missing (run as root).
# Usage: scripts/server-vs-nginx.sh [ROUNDS] [SECONDS] [DIR]   (default 7 rounds of 3 s)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
secs=${2:-3}
dir=${3:-}
source scripts/nginx-common.sh
need_tools wrk nginx curl

mkdir -p "$work/root"
if [ -z "$dir" ]; then
  start_flags_server
  "$flags" get -a --json -s "$flags_base" -d "$work/flat" >/dev/null
  for gif in "$work"/flat/*.gif; do
    cc=$(basename "$gif" .gif)
    mkdir -p "$work/root/flags/$cc"
    mv "$gif" "$work/root/flags/$cc/$cc.gif"
  done
  stop_flags_server
else
  cp -r "$(realpath "$dir")" "$work/root/flags"
fi

start_flags_server
embedded_base=$flags_base embedded_pid=$flags_pid
start_flags_server --dir "$work/root/flags"
dir_base=$flags_base dir_pid=$flags_pid
start_nginx br/br.gif
for base in "$embedded_base" "$dir_base" "$nginx_base"; do curl -sf -o /dev/null "$base/br/br.gif"; done
cmp <(curl -sf "$dir_base/br/br.gif") "$work/root/flags/br/br.gif"
cmp <(curl -sf "$nginx_base/br/br.gif") "$work/root/flags/br/br.gif"

size=$(stat -c %s "$work/root/flags/br/br.gif")
echo "wrk -t1 -c64 on /flags/br/br.gif ($size bytes), keep-alive, $rounds rounds of ${secs}s, medians:"
python3 scripts/wrk-compare.py "$rounds" "$secs" \
  "flags serve (embedded)=$embedded_pid=$embedded_base/br/br.gif" \
  "flags serve --dir=$dir_pid=$dir_base/br/br.gif" \
  "nginx=$(pgrep -d, -f 'nginx: worker')=$nginx_base/br/br.gif"
