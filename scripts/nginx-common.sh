# Shared by the scripts that measure against nginx; source it, don't run it.
# It installs what is missing, builds flags, and starts servers in a scratch
# directory ($work) that is removed, with every server, when the script exits.

# Installs each named tool from the OS packages when it is not on PATH.
need_tools() {
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -q >/dev/null
      apt-get install -y -q "$tool" >/dev/null
    fi
  done
}

cargo build --release -q
flags=target/release/flags
work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as an unprivileged user
cleanup() { kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# How many threads (flags serve) and worker processes (nginx) each server
# runs: WORKERS from the environment, 2 by default.
workers=${WORKERS:-2}

# Starts `flags serve ARGS...` on a free port with $workers threads in the
# background; sets $flags_base and $flags_pid.
start_flags_server() {
  local log
  log=$(mktemp -p "$work")
  "$flags" serve --port 0 --threads "$workers" "$@" >"$log" 2>&1 &
  flags_pid=$!
  for _ in $(seq 50); do grep -q 'http://' "$log" && break; sleep 0.1; done
  flags_base=$(grep -o 'http://[0-9.:]*/flags' "$log" | head -1)
}

# Stops the server the last start_flags_server started.
stop_flags_server() {
  kill "$flags_pid"
  wait "$flags_pid" 2>/dev/null || true
}

# Starts nginx on a free port serving $work/root, tuned as a static server
# would be ($workers workers, sendfile, no access log); sets $nginx_base to its
# /flags URL and waits until PROBE (a path under /flags) answers.
start_nginx() {
  local probe=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$work/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
error_log $work/error.log;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 1000000;
  types { image/gif gif; }
  server { listen 127.0.0.1:$port backlog=1024; root $work/root; }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work" &
  nginx_base="http://127.0.0.1:$port/flags"
  for _ in $(seq 50); do curl -sf -o /dev/null "$nginx_base/$probe" && break; sleep 0.1; done
}
