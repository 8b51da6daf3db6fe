#!/usr/bin/env bash
# Signed-in pages under load with 200 people scheduled (bench/team200.sh): wrk with 64
# connections for 15 s on the home page and the team grid, and, to see where the time
# goes, on the pieces they are made of (the session check alone, the login page's render
# without data). Appends the figures to bench/RESULTS.md; nothing is asserted.
#
#   bash bench/pages-load.sh          # builds the release first
#   SKIP_BUILD=1 bash bench/pages-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
site_root=$PWD/target/site
binary=$target_dir/release/dingding-attendance
admin_password=bench-admin-passphrase
api_token=bench-api-token-0123456789abcdef
connections=${BENCH_CONNECTIONS:-64}
duration=${BENCH_DURATION:-15s}
[ "${SKIP_BUILD:-}" = 1 ] || cargo leptos build --release --precompress --split

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

# Every figure of one request alone first, while the server is idle.
team_alone=$(alone /schedule/team)
home_alone=$(alone /)
me_alone=$(alone /api/v1/me)
login_alone=$(alone /login "Accept: text/html")
rows=(
  "$(load /schedule/team "$team_alone")"
  "$(load / "$home_alone")"
  "$(load /api/v1/me "$me_alone")"
  "$(load /login "$login_alone" "Accept: text/html")"
)

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
{
  echo
  echo "## $(date -u +%Y-%m-%d) · commit $commit · bench/pages-load.sh"
  echo
  echo "Release build, $(nproc) cores, 200 people scheduled (bench/team200.sh), admin session."
  echo "\`wrk -t2 -c$connections -d$duration --latency --timeout 2s\`."
  echo
  echo "| path | requests/s | p50 | p99 | timeouts (> 2 s) | one request alone |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee -a bench/RESULTS.md
