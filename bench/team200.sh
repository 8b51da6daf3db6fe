# Sourced by the page benchmarks (bench/lighthouse.sh, bench/pages-load.sh): starts the
# release server in a work directory, creates 200 people (BENCH_PEOPLE) scheduled from two
# weeks ago for two months through the API, and signs the admin in. Expects $binary, $site_root,
# $admin_password and $api_token; sets $base, $pid (the server) and $cookie.
# BENCH_SERVER_ENV adds variables to the server's environment (e.g. MALLOC_ARENA_MAX=2).
# shellcheck shell=bash

start_team200() { # work_dir
  local work=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  base=http://127.0.0.1:$port
  env -i -C "$work" PATH="$PATH" APP_ENV=production SECRET_KEY=bench-secret-key-0123456789abcdef \
    ADMIN_PASSWORD="$admin_password" API_TOKEN="$api_token" \
    ${BENCH_SERVER_ENV:-} HOST=127.0.0.1 PORT="$port" SITE_ROOT="$site_root" LOG_LEVEL=warn "$binary" serve >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    curl -fsS -o /dev/null "$base/api/health" 2>/dev/null && break
    sleep 0.01
  done

  local n people=${BENCH_PEOPLE:-200}
  for n in $(seq 1 "$people"); do
    printf '{"username":"team%03d","password":"team-password-%03d","display_name":"成员%03d","must_change_password":false}\n' "$n" "$n" "$n"
  done | xargs -P 4 -d '\n' -I{} curl -fsS -o /dev/null -H "Authorization: Bearer $api_token" \
    -H 'Content-Type: application/json' -d '{}' "$base/api/v1/users"
  # One import per 200 people: an import holds at most 50,000 rows.
  python3 - "$work" "$people" <<'PY'
import datetime, sys
start = datetime.date.today() - datetime.timedelta(days=14)
shifts = ["A班", "A班", "B班", "B班", "休", "休"]
people = int(sys.argv[2])
for first in range(1, people + 1, 200):
    with open(f"{sys.argv[1]}/team-{first:05d}.csv", "w", encoding="utf-8") as out:
        out.write("date,username,shift,note\n")
        for n in range(first, min(first + 200, people + 1)):
            for day in range(60):
                out.write(f"{start + datetime.timedelta(days=day)},team{n:03d},{shifts[(day + n) % 6]},\n")
PY
  local part
  for part in "$work"/team-*.csv; do
    curl -fsS -o /dev/null -H "Authorization: Bearer $api_token" -H 'Content-Type: application/octet-stream' \
      --data-binary @"$part" "$base/api/v1/schedules/import?format=csv&dry_run=false"
  done
  cookie=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$admin_password\"}" "$base/api/v1/session" \
    | tr -d '\r' | awk 'tolower($1)=="set-cookie:" && $2 ~ /^dda_session=/ {sub(/;.*/, "", $2); print $2}')
}
