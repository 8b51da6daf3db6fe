#!/usr/bin/env bash
# Lighthouse (mobile profile, Debian Chromium) on /login, /, /schedule and /schedule/team
# with a 200-person team scheduled, plus what a first visit downloads and the HTML sizes of
# the big-team pages. Appends the figures to bench/RESULTS.md; nothing is asserted.
#
#   bash bench/lighthouse.sh          # builds the release first
#   SKIP_BUILD=1 bash bench/lighthouse.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
site_root=$PWD/target/site
binary=$target_dir/release/dingding-attendance
admin_password=bench-admin-passphrase
api_token=bench-api-token-0123456789abcdef
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}

# Lighthouse from npm, kept out of the test dependencies.
tools=$PWD/bench/.tools
lighthouse=$tools/node_modules/.bin/lighthouse
if [ ! -x "$lighthouse" ]; then
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error lighthouse@12 >/dev/null
fi
[ "${SKIP_BUILD:-}" = 1 ] || cargo leptos build --release --precompress --split

kib() { echo $(( ($1 + 512) / 1024 )); }
size() { stat -c %s "$1"; }
wasm=$site_root/pkg/dingding-attendance.wasm
js=$site_root/pkg/dingding-attendance.js

work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
# shellcheck source=bench/team200.sh
source bench/team200.sh
start_team200 "$work"

html_size() { curl -fsS -o /dev/null -w '%{size_download}' -H "Cookie: $cookie" "$base$1"; }
team_html=$(html_size /schedule/team)
upcoming_html=$(html_size /reminders)
home_html=$(html_size /)

# Lighthouse: mobile profile (its default), simulated throttling, a fresh profile per run.
audit() {
  local path=$1 name=$2 headers='{}'
  [ "$path" = /login ] || headers="{\"Cookie\":\"$cookie\"}"
  CHROME_PATH=$chromium "$lighthouse" "$base$path" --quiet --only-categories=performance,accessibility \
    --extra-headers="$headers" --output=json --output-path="$work/$name.json" \
    --chrome-flags="--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=$work/chrome-$name" \
    >/dev/null 2>"$work/$name.log" || { tail -20 "$work/$name.log" >&2; return 1; }
  cp "$work/$name.json" "$reports/$name.json"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const s = (id) => Math.round(r.categories[id].score * 100);
    const a = (id) => r.audits[id].displayValue || "–";
    const kb = Math.round(r.audits["total-byte-weight"].numericValue / 1024);
    console.log(`| ${process.argv[2]} | ${s("performance")} | ${s("accessibility")} | ${a("largest-contentful-paint")} | ${a("interactive")} | ${a("total-blocking-time")} | ${kb} KiB |`);
  ' "$work/$name.json" "$path"
}
# The full reports stay in bench/out/lighthouse (not committed) for reading the audits.
reports=$PWD/bench/out/lighthouse
mkdir -p "$reports"
rows=()
for entry in /login:login /:home /schedule:schedule /schedule/team:team; do
  rows+=("$(audit "${entry%%:*}" "${entry##*:}")")
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
{
  echo
  echo "## $(date -u +%Y-%m-%d) · commit $commit · bench/lighthouse.sh"
  echo
  echo "Lighthouse $("$lighthouse" --version), mobile profile, $("$chromium" --version 2>/dev/null | head -1), $(nproc) cores; 200 people scheduled."
  echo
  echo "| route | performance | accessibility | LCP | time to interactive | total blocking | transferred |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| main bundle, WASM + JS, on every first visit (a page's chunks come on top: bench/first-load.sh): brotli | $(kib $(( $(size "$wasm.br") + $(size "$js.br") ))) KiB (wasm $(kib "$(size "$wasm")") KiB raw) |"
  echo "| HTML of /schedule/team, 200 people, month | $(kib "$team_html") KiB |"
  echo "| HTML of /reminders, 200 people, default 7 days | $(kib "$upcoming_html") KiB |"
  echo "| HTML of / (admin), 200 people | $(kib "$home_html") KiB |"
} | tee -a bench/RESULTS.md
