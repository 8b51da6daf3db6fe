#!/usr/bin/env bash
# Builds the release, measures size, start-up, memory and /api/health throughput, and
# appends the figures to bench/RESULTS.md. Figures are reported, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
site_root=$PWD/target/site
binary=$target_dir/release/dingding-attendance
connections=64
admin_password=bench-admin-passphrase
api_token=bench-api-token-0123456789abcdef
duration=${BENCH_DURATION:-15s}

cargo leptos build --release --precompress --split

kib() { echo $(( ($1 + 512) / 1024 )); }
size() { stat -c %s "$1"; }
wasm=$site_root/pkg/dingding-attendance.wasm
js=$site_root/pkg/dingding-attendance.js
css=$site_root/pkg/dingding-attendance.css

work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port/api/health
run_server() {
  # env execs the server, so $! is the server's own pid.
  env -i -C "$work" PATH="$PATH" APP_ENV=production SECRET_KEY=bench-secret-key-0123456789abcdef \
    ADMIN_PASSWORD="$admin_password" API_TOKEN="$api_token" \
    HOST=127.0.0.1 PORT="$port" SITE_ROOT="$site_root" LOG_LEVEL=warn "$binary" serve >"$work/server.log" 2>&1 &
  pid=$!
}
wait_healthy() {
  for _ in $(seq 1 3000); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.005
  done
  echo "server did not become healthy" >&2; cat "$work/server.log" >&2; return 1
}
stop_server() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# Start-up: from exec to the first 200 from /api/health; first run creates the database.
startups=()
for run in 1 2 3 4 5; do
  start=$(date +%s%N)
  run_server
  wait_healthy
  end=$(date +%s%N)
  startups+=($(( (end - start) / 1000000 )))
  if [ "$run" -lt 5 ]; then stop_server; fi
done
first_startup=${startups[0]}
warm_startup=$(printf '%s\n' "${startups[@]:1}" | sort -n | sed -n 2p)

sleep 2
rss_mib() { awk '/VmRSS/{printf "%d", $2/1024}' "/proc/$pid/status" 2>/dev/null || echo "?"; }
idle_rss=$(rss_mib)
curl -fsS -o /dev/null "http://127.0.0.1:$port/"
wrk_out=$(wrk -t2 -c"$connections" -d"$duration" --latency "$url")
rps=$(awk '/Requests\/sec/{print $2}' <<<"$wrk_out")
p99=$(awk '$1=="99%"{print $2}' <<<"$wrk_out")
p50=$(awk '$1=="50%"{print $2}' <<<"$wrk_out")
loaded_rss=$(rss_mib)

# Logins: argon2id is deliberately slow and takes 19 MiB per hash; at most two run at once,
# so a burst queues instead of multiplying memory. Eight people sign in at the same time,
# five times each (simultaneous logins for one account beyond five count as a guessing burst).
base=http://127.0.0.1:$port
login_body="{\"username\":\"admin\",\"password\":\"$admin_password\"}"
for n in 1 2 3 4 5 6 7 8; do
  curl -fsS -o /dev/null -H "Authorization: Bearer $api_token" -H 'Content-Type: application/json' \
    -d "{\"username\":\"bench$n\",\"password\":\"bench-password-$n\",\"must_change_password\":false}" \
    "$base/api/v1/users"
done
logins=40
login_start=$(date +%s%N)
for round in 1 2 3 4 5; do printf '%s\n' 1 2 3 4 5 6 7 8; done | xargs -P 8 -I{} curl -fsS -o /dev/null \
  -H 'Content-Type: application/json' -d '{"username":"bench{}","password":"bench-password-{}"}' \
  "$base/api/v1/session"
login_end=$(date +%s%N)
login_total_ms=$(( (login_end - login_start) / 1000000 ))
login_rss=$(rss_mib)
cookie=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' -d "$login_body" "$base/api/v1/session" \
  | tr -d '\r' | awk 'tolower($1)=="set-cookie:" && $2 ~ /^dda_session=/ {sub(/;.*/, "", $2); print $2}')
# A signed-in, server-rendered page that reads the session and the user list.
page_out=$(wrk -t2 -c16 -d"$duration" --latency -H "Cookie: $cookie" "$base/admin/users")
page_rps=$(awk '/Requests\/sec/{print $2}' <<<"$page_out")
page_p99=$(awk '$1=="99%"{print $2}' <<<"$page_out")
page_non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$page_out")

# A 200-person team: 50,000 schedule rows imported from one CSV (200 people × 250 days),
# then the month views read over HTTP.
for n in $(seq 1 200); do
  printf '{"username":"team%03d","password":"team-password-%03d","must_change_password":false}\n' "$n" "$n"
done | xargs -P 4 -d '\n' -I{} curl -fsS -o /dev/null -H "Authorization: Bearer $api_token" \
  -H 'Content-Type: application/json' -d '{}' "$base/api/v1/users"
python3 - "$work/team.csv" <<'PY'
import datetime, sys
start = datetime.date(2027, 1, 1)
shifts = ["A班", "A班", "B班", "B班", "休", "休"]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("date,username,shift,note\n")
    for n in range(1, 201):
        for day in range(250):
            out.write(f"{start + datetime.timedelta(days=day)},team{n:03d},{shifts[(day + n) % 6]},\n")
PY
import_rows=$(( $(wc -l < "$work/team.csv") - 1 ))
import_call() {
  curl -fsS -o "$work/import.json" -w '%{time_total}' -H "Authorization: Bearer $api_token" \
    -H 'Content-Type: application/octet-stream' --data-binary @"$work/team.csv" \
    "$base/api/v1/schedules/import?format=csv&dry_run=$1"
}
import_preview_s=$(import_call true)
import_commit_s=$(import_call false)
import_rss=$(rss_mib)
month_out=$(wrk -t2 -c16 -d"$duration" --latency -H "Authorization: Bearer $api_token" \
  "$base/api/v1/schedules?from=2027-03-01&to=2027-03-31")
month_rps=$(awk '/Requests\/sec/{print $2}' <<<"$month_out")
month_p99=$(awk '$1=="99%"{print $2}' <<<"$month_out")
month_bytes=$(curl -fsS -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $api_token" \
  "$base/api/v1/schedules?from=2027-03-01&to=2027-03-31")
# The team grid's own request: one server function call with shifts, people, entries and days.
cat > "$work/team.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"anchor":"2027-03-15","span":"month","user_id":null,"team":true}'
wrk.headers["Content-Type"] = "application/json"
LUA
grid_out=$(wrk -t2 -c16 -d"$duration" --latency -s "$work/team.lua" -H "Cookie: $cookie" -H "Origin: $base" \
  "$base/api/fn/load_calendar")
grid_rps=$(awk '/Requests\/sec/{print $2}' <<<"$grid_out")
grid_p99=$(awk '$1=="99%"{print $2}' <<<"$grid_out")
grid_non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$grid_out")

final_rss=$(rss_mib)
stop_server

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
mem=$(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)
{
  echo
  echo "## $(date -u +%Y-%m-%d) · commit $commit"
  echo
  echo "Machine: $(nproc) cores ($cpu), $mem, $(uname -m), rustc $(rustc --version | cut -d' ' -f2)."
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| server binary (release, stripped) | $(kib "$(size "$binary")") KiB |"
  echo "| wasm raw / gzip / brotli | $(kib "$(size "$wasm")") / $(kib "$(size "$wasm.gz")") / $(kib "$(size "$wasm.br")") KiB |"
  echo "| js glue raw / brotli | $(kib "$(size "$js")") / $(kib "$(size "$js.br")") KiB |"
  echo "| css raw / brotli | $(kib "$(size "$css")") / $(kib "$(size "$css.br")") KiB |"
  echo "| start-up to healthy /api/health, fresh database | $first_startup ms |"
  echo "| start-up to healthy /api/health, existing database (median of 4) | $warm_startup ms |"
  echo "| idle RSS after start-up | $idle_rss MiB |"
  echo "| RSS after the load test | $loaded_rss MiB |"
  echo "| /api/health, wrk $connections connections, $duration | $rps req/s, p50 $p50, p99 $p99 |"
  echo "| $logins logins, 8 at a time (argon2id, 2 hashes at once) | $login_total_ms ms in all, $(( logins * 1000 / (login_total_ms > 0 ? login_total_ms : 1) )) logins/s |"
  echo "| RSS after the login burst | $login_rss MiB |"
  echo "| signed-in /admin/users (SSR), wrk 16 connections, $duration | $page_rps req/s, p99 $page_p99${page_non2xx:+, non-2xx $page_non2xx} |"
  echo "| import $import_rows CSV rows (200 people × 250 days): preview / commit | $import_preview_s s / $import_commit_s s (RSS after: $import_rss MiB) |"
  echo "| month of a 200-person team, GET /api/v1/schedules (6,200 entries, $(kib "$month_bytes") KiB), wrk 16 connections | $month_rps req/s, p99 $month_p99 |"
  echo "| team grid month, load_calendar server function, wrk 16 connections | $grid_rps req/s, p99 $grid_p99${grid_non2xx:+, non-2xx $grid_non2xx} |"
  echo "| RSS at the end | $final_rss MiB |"
} | tee -a bench/RESULTS.md
