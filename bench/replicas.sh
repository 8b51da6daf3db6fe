#!/usr/bin/env bash
# 10,000 people due in the same minute, each on their own generic webhook (the local mock
# robot, bench/mock_robot.mjs), delivered by:
#   1. one server process on SQLite (the default installation);
#   2. two replicas on one PostgreSQL database (a throwaway cluster, scripts/pg-cluster.sh),
#      filled from the same SQLite file with `migrate-db`.
# Figures per case: time from the minute to the last delivery, p50/p99 lateness (sent-at
# minus due-at from the deliveries table), duplicates at the mock (must be 0), CPU seconds
# of each process. Appends a table to bench/RESULTS.md. Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
binary=$target_dir/release/dingding-attendance
api_token=bench-api-token-0123456789abcdef
people=${BENCH_REPLICA_PEOPLE:-10000}

[ -x "$binary" ] || cargo leptos build --release --precompress --split

work=$(mktemp -d)
pids=()
mock_pid=
cluster=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  [ -n "$cluster" ] && bash scripts/pg-cluster.sh stop "$cluster"
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

start_server() { # dir port [VAR=value…]; appends the pid to pids
  local dir=$1 port=$2
  shift 2
  env -i -C "$dir" PATH="$PATH" APP_ENV=development API_TOKEN="$api_token" \
    ADMIN_PASSWORD=bench-admin-passphrase HOST=127.0.0.1 PORT="$port" \
    LOG_LEVEL=warn TEST_CLOCK_FILE="$work/clock" ALLOW_PRIVATE_WEBHOOKS=true "$@" \
    "$binary" serve >>"$dir/server-$port.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 3000); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/api/health" 2>/dev/null && return 0
    sleep 0.01
  done
  echo "server did not become healthy" >&2
  cat "$dir/server-$port.log" >&2
  return 1
}
stop_servers() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
api() { # method url [json]
  curl -fsS -X "$1" -H "Authorization: Bearer $api_token" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$2"
}
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / t}' "/proc/$1/stat"; }

mock_port=$(free_port)
node bench/mock_robot.mjs "$mock_port" >"$work/mock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 1 500); do curl -fsS -o /dev/null "http://127.0.0.1:$mock_port/stats" 2>/dev/null && break; sleep 0.01; done
mock="http://127.0.0.1:$mock_port"

# The SQLite installation: one person, channel and schedule through the API, cloned in
# SQLite to $people (no 10,000 password hashes), then one start that seals the URLs.
seed_dir=$work/seed
mkdir -p "$seed_dir"
printf '2026-11-23T08:00:00+08:00' >"$work/clock"
port=$(free_port)
base=http://127.0.0.1:$port
start_server "$seed_dir" "$port"
seed=$(api POST "$base/api/v1/users" \
  '{"username":"seed","password":"seed-password-1","mobile":"13900000000","must_change_password":false}' \
  | json_field '["id"]')
api POST "$base/api/v1/channels" \
  "{\"name\":\"seed\",\"kind\":\"generic\",\"url\":\"$mock/hook/seed\",\"user_id\":$seed}" >/dev/null
shift_id=$(api GET "$base/api/v1/shifts" | python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin) if s["name"]=="A班"][0])')
api PUT "$base/api/v1/schedules" "[{\"user_id\":$seed,\"date\":\"2026-11-23\",\"shift_id\":$shift_id}]" >/dev/null
stop_servers
python3 - "$seed_dir/data/attendance.db" "$people" "$mock" <<'PY'
import sqlite3, sys
db, people, mock = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def clone(table, where, changes):
    cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    row = dict(zip(cols, db.execute(f"SELECT * FROM {table} WHERE {where}").fetchone()))
    row.pop("id")
    row.update(changes)
    names, marks = ",".join(row), ",".join("?" for _ in row)
    return db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values())).lastrowid
with db:
    for n in range(1, people):
        user = clone("users", "username='seed'", {
            "username": f"p{n:05d}", "username_key": f"p{n:05d}",
            "display_name": f"员工{n:05d}", "mobile": f"139{n:08d}"})
        clone("channels", "name='seed'", {"user_id": user, "name": f"c{n:05d}",
              "url": f"{mock}/hook/p{n:05d}", "secret": None})
        clone("schedules", "user_id=(SELECT id FROM users WHERE username='seed')", {"user_id": user})
PY
start_server "$seed_dir" "$port"
stop_servers

# The PostgreSQL database: the same installation, moved with migrate-db (timed).
# Its own directory: as root the server runs as `postgres`, which cannot enter $work.
cluster=$(mktemp -d /tmp/dda-bench-pg.XXXXXX)
admin_url=$(bash scripts/pg-cluster.sh start "$cluster")
psql -q "$admin_url" -c 'CREATE DATABASE bench'
pg_url=${admin_url%/*}/bench
migrate_start=$(now_ms)
env -i -C "$seed_dir" PATH="$PATH" APP_ENV=development LOG_LEVEL=warn \
  "$binary" migrate-db --to "$pg_url" >"$work/migrate-db.log"
migrate_s=$(awk -v a="$(now_ms)" -v b="$migrate_start" 'BEGIN{printf "%.1f", (a - b) / 1000}')
tail -1 "$work/migrate-db.log"

# run_case NAME REPLICAS [VAR=value…]: every replica starts at 08:44:50 on the schedule
# clock; waits for all $people at the mock; sets case_* figures.
run_case() {
  local name=$1 replicas=$2
  shift 2
  local dir=$work/$name
  cp -r "$seed_dir" "$dir"
  curl -fsS -X POST -o /dev/null "$mock/reset"
  printf '2026-11-23T08:44:50+08:00' >"$work/clock"
  local minute_ms=$(( $(now_ms) + 10000 ))
  local n
  for n in $(seq 1 "$replicas"); do start_server "$dir" "$(free_port)" "$@"; done
  local deadline=$(( $(date +%s) + 900 )) stats count
  while :; do
    stats=$(curl -fsS "$mock/stats")
    count=$(json_field '["people"]' <<<"$stats")
    [ "$count" -ge "$people" ] && break
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "$name: only $count of $people arrived in 900 s" >&2
      break
    fi
    sleep 0.2
  done
  sleep 2
  case_cpu=()
  local pid
  for pid in "${pids[@]}"; do case_cpu+=("$(cpu_seconds "$pid")"); done
  stats=$(curl -fsS "$mock/stats")
  stop_servers
  case_arrived=$(json_field '["people"]' <<<"$stats")
  case_duplicates=$(json_field '["duplicates"]' <<<"$stats")
  case_to_last=$(awk -v a="$(json_field '["last"]' <<<"$stats")" -v b="$minute_ms" 'BEGIN{printf "%.1f", (a - b) / 1000}')
}

# Lateness per sent row, p50 and p99, from "due_at|sent_at|status" lines on stdin.
lateness() {
  python3 -c '
import sys
from datetime import datetime
def parse(text):
    return datetime.fromisoformat(text.strip().replace(" UTC", "+00:00"))
late, other = [], 0
for line in sys.stdin:
    due, sent, status = line.rstrip("\n").split("|")
    if status == "sent":
        late.append((parse(sent) - parse(due)).total_seconds())
    else:
        other += 1
late.sort()
pick = lambda q: late[min(len(late) - 1, int(q * len(late)))] if late else float("nan")
print(len(late), other, f"{pick(0.5):.1f}", f"{pick(0.99):.1f}")'
}

run_case sqlite 1
sqlite_cpu=("${case_cpu[@]}")
s=("$case_arrived" "$case_duplicates" "$case_to_last")
read -r s_sent s_other s_p50 s_p99 < <(python3 - "$work/sqlite/data/attendance.db" <<'PY' | lateness
import sqlite3, sys
for due, sent, status in sqlite3.connect(sys.argv[1]).execute("SELECT due_at, sent_at, status FROM deliveries"):
    print(f"{due}|{sent or ''}|{status}")
PY
)

run_case postgres 2 DATABASE_URL="$pg_url"
pg_cpu=("${case_cpu[@]}")
p=("$case_arrived" "$case_duplicates" "$case_to_last")
read -r p_sent p_other p_p50 p_p99 < <(psql -qAt -F '|' "$pg_url" \
  -c "SELECT to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00'), \
             COALESCE(to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00'), ''), status \
      FROM deliveries" | lateness)

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
{
  echo
  echo "## Replicas on PostgreSQL · $(date -u +%Y-%m-%d) · commit $commit"
  echo
  echo "Machine: $(nproc) cores ($cpu), $(uname -m). \`bash bench/replicas.sh\`: release build; $people"
  echo "people due at 08:45, each on their own generic webhook (mock on the same machine); default tick"
  echo "(5 s). PostgreSQL 15 is a local throwaway cluster (fsync off), filled from the SQLite file with"
  echo "\`migrate-db\` in ${migrate_s} s. Both replicas and the database share the machine's $(nproc) cores."
  echo
  echo "| figure | SQLite, 1 process | PostgreSQL, 2 replicas |"
  echo "|---|---|---|"
  echo "| people reminded / rows sent / rows not sent | ${s[0]} / $s_sent / $s_other | ${p[0]} / $p_sent / $p_other |"
  echo "| time from the minute to the last delivery | ${s[2]} s | ${p[2]} s |"
  echo "| lateness p50 / p99 | $s_p50 s / $s_p99 s | $p_p50 s / $p_p99 s |"
  echo "| duplicates at the mock | ${s[1]} | ${p[1]} |"
  echo "| CPU time per process | ${sqlite_cpu[*]} s | ${pg_cpu[0]} s + ${pg_cpu[1]} s |"
} | tee -a bench/RESULTS.md
