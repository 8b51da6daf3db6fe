#!/usr/bin/env bash
# Signed-in pages under load with 200 people scheduled (bench/team200.sh): wrk with 64
# connections for 15 s on the home page and the team grid, and, to see where the time
# goes, on the pieces they are made of (the session check alone, the login page's render
# without data). Appends the figures to bench/RESULTS.md; nothing is asserted.
#
#   bash bench/pages-load.sh          # builds the release first
#   SKIP_BUILD=1 bash bench/pages-load.sh
#   BENCH_PROFILE=profiling bash bench/pages-load.sh   # `make bench-pages`: minutes per cycle
#
# The profiling profile (Cargo.toml) rebuilds the server in minutes; it reuses whatever
# site is in target/site (the pages' HTML does not depend on how the bundle was built).
# Final figures come from the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
site_root=$PWD/target/site
profile=${BENCH_PROFILE:-release}
binary=$target_dir/$profile/dingding-attendance
admin_password=bench-admin-passphrase
api_token=bench-api-token-0123456789abcdef
connections=${BENCH_CONNECTIONS:-64}
duration=${BENCH_DURATION:-15s}
if [ "${SKIP_BUILD:-}" != 1 ]; then
  if [ "$profile" = release ]; then
    cargo leptos build --release --precompress --split
  else
    cargo build -p server --profile "$profile"
    [ -d "$site_root/pkg" ] || { echo "no site in $site_root: run a cargo leptos build once" >&2; exit 1; }
  fi
fi

work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
# shellcheck source=bench/team200.sh
source bench/team200.sh
start_team200 "$work"

# alone PATH [header]: "seconds bytes" of one request on an idle server (median of 5).
alone() {
  local path=$1 header=${2:-"Cookie: $cookie"}
  for _ in 1 2 3 4 5; do
    curl -fsS -o /dev/null -w '%{time_total} %{size_download}\n' -H "$header" "$base$path"
  done | sort -n | sed -n 3p
}

# load PATH "seconds bytes" [header]: one table row (requests/s, p50, p99, timeouts, alone).
load() {
  local path=$1 alone=$2 header=${3:-"Cookie: $cookie"} out
  out=$(wrk -t2 -c"$connections" -d"$duration" --latency --timeout 2s -H "$header" "$base$path")
  awk -v path="$path" -v alone="$alone" '
    /Requests\/sec/ {rps = $2}
    $1 == "50%" {p50 = $2}
    $1 == "99%" {p99 = $2}
    /Socket errors/ {for (i = 1; i <= NF; i++) if ($i == "timeout") timeouts = $(i + 1)}
    /Non-2xx/ {non2xx = $NF}
    END {
      split(alone, a, " ")
      printf "| %s | %s | %s | %s | %d | %s%s |\n", path, rps, p50, p99, timeouts + 0,
        sprintf("%.0f ms, %.0f KiB", a[1] * 1000, a[2] / 1024), non2xx ? ", non-2xx " non2xx : ""
    }' <<<"$out"
}

rss() { awk '/^VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$pid/status"; }
rss_rest=$(rss)
# 50 logins (argon2 for each), one after another as people arrive.
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$admin_password\"}" "$base/api/v1/session"
done
sleep 1
rss_logins=$(rss)

# Every figure of one request alone first, while the server is idle.
month_from=$(date +%Y-%m-01)
month_to=$(date -d "$month_from +1 month -1 day" +%Y-%m-%d)
month_json="/api/v1/schedules?from=$month_from&to=$month_to"
token_header="Authorization: Bearer $api_token"
team_alone=$(alone /schedule/team)
home_alone=$(alone /)
preview_alone=$(alone /reminders)
json_alone=$(alone "$month_json" "$token_header")
me_alone=$(alone /api/v1/me)
login_alone=$(alone /login "Accept: text/html")
rows=(
  "$(load /schedule/team "$team_alone")"
  "$(load / "$home_alone")"
  "$(load /reminders "$preview_alone")"
  "$(load "$month_json" "$json_alone" "$token_header")"
  "$(load /api/v1/me "$me_alone")"
  "$(load /login "$login_alone" "Accept: text/html")"
)
sleep 2
rss_load=$(rss)

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
{
  echo
  echo "## $(date -u +%Y-%m-%d) · commit $commit · bench/pages-load.sh"
  echo
  echo "Build profile \`$profile\`, $(nproc) cores, ${BENCH_PEOPLE:-200} people scheduled (bench/team200.sh), admin session."
  echo "\`wrk -t2 -c$connections -d$duration --latency --timeout 2s\`."
  echo
  echo "| path | requests/s | p50 | p99 | timeouts (> 2 s) | one request alone |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Server RSS: $rss_rest at rest after the data was loaded, $rss_logins after 50 logins, $rss_load after the load runs."
} | tee -a bench/RESULTS.md
