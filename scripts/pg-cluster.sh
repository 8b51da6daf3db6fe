#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` creates one in DIR (initdb, its
# own free port, a Unix socket in DIR, trust authentication on 127.0.0.1 only) and prints
# its superuser URL; `stop DIR` stops it and removes DIR. No system service is used, so it
# runs the same on a CI machine and a laptop. As root the server runs as `postgres` (the
# user Debian's package creates), because PostgreSQL refuses to run as root.
#
#   url=$(bash scripts/pg-cluster.sh start /tmp/pg) ... bash scripts/pg-cluster.sh stop /tmp/pg
set -euo pipefail

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/$1" ] && { echo "$dir/$1"; return; }
  done
  command -v "$1" || { echo "error: $1 not found; install Debian's postgresql (.ci/setup test)" >&2; exit 1; }
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir=$1
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" \
      || { echo "error: the postgres user cannot enter $dir (a parent directory is private)" >&2; exit 1; }
  fi
  as_owner "$(pg_bin initdb)" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  local port
  port=$(free_port)
  # Durability is irrelevant for a cluster deleted after the run; connections cover every
  # test app's pool (10) while two test threads and their server processes run.
  as_owner "$(pg_bin pg_ctl)" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB" >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$(pg_bin pg_ctl)" -D "$dir/data" -m immediate -w stop >/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:?usage: pg-cluster.sh start DIR}" ;;
  stop) stop "${2:?usage: pg-cluster.sh stop DIR}" ;;
  *) echo "usage: pg-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
