#!/usr/bin/env bash
# Reminder delivery at scale, on the release build, against a local mock robot
# (bench/mock_robot.mjs), and appends the figures to bench/RESULTS.md:
#   1. 10,000 people whose shifts start the same minute, each with their own generic webhook:
#      time from the minute to the last delivery, p50/p99 lateness, CPU seconds, peak RSS.
#   2. 100 people on one DingTalk team robot: merged into messages of 20 mentions, paced by
#      its 20-a-minute limit: how long, how many messages, whether any was dropped or refused.
#   3. 10,000 people with a personal push channel each, spread over 1,000 endpoints of the
#      personal kinds (Bark, ntfy, Gotify, ServerChan, PushPlus, WxPusher).
# The server's clock is a file (TEST_CLOCK_FILE, development mode), set 10 s before 08:45
# (A班's clock-in reminder); the seed person, channel and schedule are made through the
# API, then cloned in SQLite to reach 10,000 without 10,000 password hashes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
site_root=$PWD/target/site
binary=$target_dir/release/dingding-attendance
api_token=bench-api-token-0123456789abcdef
generic_people=${BENCH_REMINDER_PEOPLE:-10000}
dingtalk_people=${BENCH_DINGTALK_PEOPLE:-100}
personal_people=${BENCH_PERSONAL_PEOPLE:-10000}

[ -x "$binary" ] || cargo leptos build --release --precompress --split

work=$(mktemp -d)
pid=
mock_pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

run_server() { # dir port [VAR=value…]
  local dir=$1 port=$2
  shift 2
  env -i -C "$dir" PATH="$PATH" APP_ENV=development API_TOKEN="$api_token" \
    ADMIN_PASSWORD=bench-admin-passphrase HOST=127.0.0.1 PORT="$port" SITE_ROOT="$site_root" \
    LOG_LEVEL=warn TEST_CLOCK_FILE="$dir/clock" ALLOW_PRIVATE_WEBHOOKS=true \
    SERVERCHAN_API_BASE="$mock/sct" PUSHPLUS_API_BASE="$mock/pushplus" \
    WXPUSHER_API_BASE="$mock/wxpusher" "$@" \
    "$binary" serve >>"$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 2000); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/api/health" 2>/dev/null && return 0
    sleep 0.01
  done
  echo "server did not become healthy" >&2
  cat "$dir/server.log" >&2
  return 1
}
stop_server() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
api() { # method url [json]
  curl -fsS -X "$1" -H "Authorization: Bearer $api_token" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$2"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

mock_port=$(free_port)
node bench/mock_robot.mjs "$mock_port" >"$work/mock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 1 500); do curl -fsS -o /dev/null "http://127.0.0.1:$mock_port/stats" 2>/dev/null && break; sleep 0.01; done
mock="http://127.0.0.1:$mock_port"

# scenario NAME PEOPLE KIND (generic: one channel each; dingtalk: one team robot)
scenario() {
  local name=$1 people=$2 kind=$3
  local dir=$work/$name port base
  mkdir -p "$dir"
  port=$(free_port)
  base=http://127.0.0.1:$port
  printf '2026-11-23T08:00:00+08:00' >"$dir/clock"
  run_server "$dir" "$port"
  local seed shift_id
  seed=$(api POST "$base/api/v1/users" \
    '{"username":"seed","password":"seed-password-1","mobile":"13900000000","must_change_password":false}' \
    | json_field '["id"]')
  if [ "$kind" = generic ]; then
    api POST "$base/api/v1/channels" \
      "{\"name\":\"seed\",\"kind\":\"generic\",\"url\":\"$mock/hook/seed\",\"user_id\":$seed}" >/dev/null
  elif [ "$kind" = personal ]; then
    api POST "$base/api/v1/channels" \
      "{\"name\":\"seed\",\"url\":\"bark://127.0.0.1:$mock_port/bark/SeedDeviceKey0\",\"user_id\":$seed}" >/dev/null
  else
    api POST "$base/api/v1/channels" \
      "{\"name\":\"team\",\"kind\":\"dingtalk\",\"url\":\"$mock/robot/send?access_token=bench\"}" >/dev/null
  fi
  shift_id=$(api GET "$base/api/v1/shifts" | python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin) if s["name"]=="A班"][0])')
  api PUT "$base/api/v1/schedules" "[{\"user_id\":$seed,\"date\":\"2026-11-23\",\"shift_id\":$shift_id}]" >/dev/null
  stop_server

  # Clone the seed person (and their channel) and schedule in SQLite.
  # Channel URLs are written in plaintext: the server seals them when it starts.
  python3 - "$dir/data/attendance.db" "$people" "$kind" "$mock" "$mock_port" <<'PY'
import sqlite3, sys
db, people, kind = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mock, mock_port = sys.argv[4], sys.argv[5]
def personal(n):
    # 1,000 endpoints of six kinds, each shared by people/1000 people.
    e = n % 1000
    return [
        ("bark", f"bark://127.0.0.1:{mock_port}/bark/Dev{e:05d}BenchKey"),
        ("ntfy", f"ntfy://127.0.0.1:{mock_port}/ntfy-topic{e:05d}"),
        ("gotify", f"gotify://127.0.0.1:{mock_port}/gotify/Tok{e:05d}BenchToken"),
        ("serverchan", f"schan://SCT{e:05d}TBenchSendKeyABCDEFGH"),
        ("pushplus", f"pushplus://{e:032x}"),
        ("wxpusher", f"wxpusher://AT_Bench{e:026d}/UID_Bench{e:020d}"),
    ][e % 6]
def clone(table, where, changes):
    cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    row = dict(zip(cols, db.execute(f"SELECT * FROM {table} WHERE {where}").fetchone()))
    row.pop("id")
    row.update(changes)
    names = ",".join(row)
    marks = ",".join("?" for _ in row)
    return db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values())).lastrowid
with db:
    for n in range(1, people):
        user = clone("users", "username='seed'", {
            "username": f"p{n:05d}", "username_key": f"p{n:05d}",
            "display_name": f"员工{n:05d}", "mobile": f"139{n:08d}"})
        if kind == "generic":
            clone("channels", "name='seed'", {"user_id": user, "name": f"c{n:05d}",
                  "url": f"{mock}/hook/p{n:05d}", "secret": None})
        elif kind == "personal":
            platform, url = personal(n)
            clone("channels", "name='seed'", {"user_id": user, "name": f"c{n:05d}",
                  "platform": platform, "url": url, "secret": None})
        clone("schedules", "user_id=(SELECT id FROM users WHERE username='seed')", {"user_id": user})
PY

  # One start before the measured one: it seals the plaintext URLs written above (a
  # one-time migration that would otherwise be counted in the measured run).
  run_server "$dir" "$port"
  stop_server

  local minute_ms clk_tck
  curl -fsS -X POST -o /dev/null "$mock/reset"
  printf '2026-11-23T08:44:50+08:00' >"$dir/clock"
  minute_ms=$(( $(now_ms) + 10000 ))
  run_server "$dir" "$port"
  local timeout_s=900 stats count
  local deadline=$(( $(date +%s) + timeout_s ))
  while :; do
    stats=$(curl -fsS "$mock/stats")
    count=$(json_field '["people"]' <<<"$stats")
    [ "$count" -ge "$people" ] && break
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "$name: only $count of $people arrived in ${timeout_s}s" >&2
      tail -20 "$dir/server.log" >&2
      break
    fi
    sleep 0.2
  done
  sleep 1
  clk_tck=$(getconf CLK_TCK)
  cpu_s=$(awk -v t="$clk_tck" '{printf "%.1f", ($14 + $15) / t}' "/proc/$pid/stat")
  peak_rss=$(awk '/VmHWM/{printf "%d", $2/1024}' "/proc/$pid/status")
  stats=$(curl -fsS "$mock/stats")
  stop_server
  last_ms=$(json_field '["last"]' <<<"$stats")
  to_last_s=$(awk -v a="$last_ms" -v b="$minute_ms" 'BEGIN{printf "%.1f", (a - b) / 1000}')
  rate_limited=$(json_field '["rate_limited"]' <<<"$stats")
  duplicates=$(json_field '["duplicates"]' <<<"$stats")
  arrived=$(json_field '["people"]' <<<"$stats")
  messages=$(json_field '["count"]' <<<"$stats")
  read -r sent other p50 p99 < <(python3 - "$dir/data/attendance.db" <<'PY'
import sqlite3, sys
from datetime import datetime
def parse(text):
    return datetime.fromisoformat(str(text).replace(" UTC", "+00:00"))
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT status, due_at, sent_at FROM deliveries").fetchall()
late = sorted((parse(s) - parse(d)).total_seconds() for st, d, s in rows if st == "sent")
other = sum(1 for st, _, _ in rows if st != "sent")
pick = lambda q: late[min(len(late) - 1, int(q * len(late)))] if late else float("nan")
print(len(late), other, f"{pick(0.5):.1f}", f"{pick(0.99):.1f}")
PY
)
}

scenario generic "$generic_people" generic
g=("$arrived" "$sent" "$other" "$p50" "$p99" "$to_last_s" "$cpu_s" "$peak_rss" "$duplicates")
scenario dingtalk "$dingtalk_people" dingtalk
d=("$arrived" "$sent" "$other" "$p50" "$p99" "$to_last_s" "$cpu_s" "$peak_rss" "$duplicates" "$rate_limited" "$messages")
scenario personal "$personal_people" personal
p=("$arrived" "$sent" "$other" "$p50" "$p99" "$to_last_s" "$cpu_s" "$peak_rss" "$duplicates")

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
{
  echo
  echo "## Reminder delivery · $(date -u +%Y-%m-%d) · commit $commit"
  echo
  echo "Machine: $(nproc) cores ($cpu), $(uname -m). \`bash bench/reminders.sh\`: release build, SQLite,"
  echo "default tick (every 5 s), mock robot (Node.js) on the same machine. Lateness = sent-at minus due-at"
  echo "as recorded in the deliveries table; CPU and peak RSS are the server process's own, start to end."
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| ${generic_people} people, same minute, one generic webhook each: arrived / rows sent / rows not sent | ${g[0]} / ${g[1]} / ${g[2]} |"
  echo "| … time from the minute to the last delivery | ${g[5]} s |"
  echo "| … lateness p50 / p99 | ${g[3]} s / ${g[4]} s |"
  echo "| … server CPU time / peak RSS | ${g[6]} s / ${g[7]} MiB |"
  echo "| … duplicates at the robot | ${g[8]} |"
  echo "| ${dingtalk_people} people on one DingTalk team robot (20 a minute, merged): reminded / rows sent / not sent | ${d[0]} / ${d[1]} / ${d[2]} |"
  echo "| … messages the robot received | ${d[10]} |"
  echo "| … time from the minute to the last person reminded | ${d[5]} s |"
  echo "| … refused by the robot's rate limit (130101) / duplicates | ${d[9]} / ${d[8]} |"
  echo "| … lateness p50 / p99 | ${d[3]} s / ${d[4]} s |"
  echo "| ${personal_people} people, same minute, own personal channels over 1,000 endpoints (Bark, ntfy, Gotify, ServerChan, PushPlus, WxPusher): arrived / rows sent / not sent | ${p[0]} / ${p[1]} / ${p[2]} |"
  echo "| … time from the minute to the last delivery | ${p[5]} s |"
  echo "| … lateness p50 / p99 | ${p[3]} s / ${p[4]} s |"
  echo "| … server CPU time / peak RSS | ${p[6]} s / ${p[7]} MiB |"
  echo "| … duplicates | ${p[8]} |"
} | tee -a bench/RESULTS.md
