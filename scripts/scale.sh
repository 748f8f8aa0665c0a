#!/usr/bin/env bash
# `flags serve --delay 1` holding many connections at once, measured with
# wrk on loopback: the requests per second against what wrk can count,
# the latency percentiles (the ideal is the 1 s delay), and the server's
# peak resident memory (VmHWM) and its share per connection.
#   1. 10 000 connections: one wrk, -t2 -c10000, SECONDS long (default 30).
#   2. 19 000 connections: two wrk processes of 9 500 each, 10 s, at once
#      (one wrk process cannot hold more file descriptors than its limit).
# Each process needs a descriptor per connection: the script raises its
# soft limit (ulimit -n) to the hard one and says what to raise when the
# hard limit is too low (see the README's "Many connections"). Installs
# wrk from the OS packages when missing (run as root).
# Usage: scripts/scale.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
source scripts/nginx-common.sh
need_tools wrk curl
command -v ss >/dev/null 2>&1 || need_tools iproute2  # ss, for settle

hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 19600 ]; then
  echo "scale.sh: the hard limit on open files is $hard; 19 000 connections need about 19 600." >&2
  echo "Raise it (/etc/security/limits.conf, or LimitNOFILE= for a service) and run again." >&2
  exit 2
fi
ulimit -n "$hard"

# Runs one wrk over `conns` connections for `secs` seconds against $url
# into $work/wrk-NAME.txt, and the CPU it used into $work/cpu-NAME.txt.
run_wrk() {
  local name=$1 conns=$2 secs=$3
  local TIMEFORMAT="%U %S"
  { time wrk -t2 -c"$conns" -d"${secs}s" --timeout 8s --latency "$url" >"$work/wrk-$name.txt" 2>&1; } \
    2>"$work/cpu-$name.txt"
}

# The connections a test closed stay in TIME_WAIT for 60 s, and each
# connect() to the same address and port then steps over their ports:
# waits (at most 90 s) until few are left, so that one test's leftovers
# do not slow the next one's connects.
settle() {
  for _ in $(seq 90); do
    [ "$(ss -tan state time-wait | wc -l)" -lt 1000 ] && return
    sleep 1
  done
}

# Prints one row from the wrk outputs named in "$@", the server's VmHWM
# and what wrk could count at most ($conns connections, $secs seconds).
report() {
  local conns=$1 secs=$2; shift 2
  local hwm ticks
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$flags_pid/status")
  ticks=$(awk '{print $14 + $15}' "/proc/$flags_pid/stat")
  SERVER_CPU=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}') \
  python3 - "$conns" "$secs" "$hwm" "$@" <<'PY'
import os, re, sys
conns, secs, hwm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rate = p50 = p99 = 0.0
errors = []
def seconds(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]
for path in sys.argv[4:]:
    out = open(path).read()
    rate += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = max(p50, seconds(re.search(r"50%\s+(\S+)", out).group(1)))
    p99 = max(p99, seconds(re.search(r"99%\s+(\S+)", out).group(1)))
    errors += re.findall(r"Socket errors:.*|Non-2xx.*", out)
# Each connection's first answer comes after 1 s, then one a second.
possible = conns * (secs - 1) / secs
print(f"{conns:>6} connections, {secs} s: {rate:,.0f} req/s of {possible:,.0f} countable, "
      f"p50 {p50:.2f} s, p99 {p99:.2f} s, server VmHWM {hwm / 1024:.0f} MB "
      f"({hwm / conns:.1f} KB a connection)")
for e in errors:
    print("        wrk:", e)
cpu = [open(p.replace("/wrk-", "/cpu-")).read().split() for p in sys.argv[4:]]
user = sum(float(c[0]) for c in cpu)
system = sum(float(c[1]) for c in cpu)
print(f"        CPU: the server {float(os.environ['SERVER_CPU']):.1f} s, wrk {user:.1f} s user and {system:.1f} s system, "
      f"of the {secs * (os.cpu_count() or 1)} core-seconds there were")
PY
}

settle
start_flags_server --delay 1 --max-connections 12000
url="$flags_base/br/br.gif"
curl -sf -o /dev/null "$url"
run_wrk 10k 10000 "$secs"
report 10000 "$secs" "$work/wrk-10k.txt"
stop_flags_server

settle
start_flags_server --delay 1 --max-connections 19500
url="$flags_base/br/br.gif"
curl -sf -o /dev/null "$url"
run_wrk 19k-a 9500 10 &
a=$!
run_wrk 19k-b 9500 10 &
b=$!
wait "$a" "$b"
report 19000 10 "$work/wrk-19k-a.txt" "$work/wrk-19k-b.txt"
stop_flags_server
