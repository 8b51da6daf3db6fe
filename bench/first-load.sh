#!/usr/bin/env bash
# What each route's first visit downloads (WASM and JS, brotli) and what navigating in the
# app loads afterwards, on the release build; appends the figures to bench/RESULTS.md.
# Nothing is asserted (issue 30's budget is 250 KB per first visit).
#
#   bash bench/first-load.sh          # builds the release first
#   SKIP_BUILD=1 bash bench/first-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
site_root=$PWD/target/site
binary=$target_dir/release/dingding-attendance
admin_password=bench-admin-passphrase

[ "${SKIP_BUILD:-}" = 1 ] || cargo leptos build --release --precompress --split

work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
env -i -C "$work" PATH="$PATH" APP_ENV=production SECRET_KEY=bench-secret-key-0123456789abcdef \
  ADMIN_PASSWORD="$admin_password" HOST=127.0.0.1 PORT="$port" SITE_ROOT="$site_root" LOG_LEVEL=warn \
  "$binary" serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  curl -fsS -o /dev/null "$base/api/health" 2>/dev/null && break
  sleep 0.01
done
cookie=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$admin_password\"}" "$base/api/v1/session" \
  | tr -d '\r' | awk 'tolower($1)=="set-cookie:" && $2 ~ /^dda_session=/ {sub(/;.*/, "", $2); sub(/^dda_session=/, "", $2); print $2}')
[ -n "$cookie" ] || { echo "could not sign in" >&2; cat "$work/server.log" >&2; exit 1; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
pkg=$site_root/pkg
{
  echo
  echo "## $(date -u +%Y-%m-%d) · commit $commit · bench/first-load.sh"
  echo
  echo "Release build split by route (\`cargo leptos build --release --precompress --split\`): $(find "$pkg" -name '*.wasm' | wc -l) WASM files,"
  echo "$(( $(du -cb "$pkg"/*.wasm | tail -1 | cut -f1) / 1000 )) KB raw in all. Per route, a fresh browser signed in as an admin (\`/login\` signed out);"
  echo "sizes are the \`.br\` copies of the files the visit requested."
  echo
  node bench/first-load.mjs "$base" "$cookie" "$site_root"
} | tee -a bench/RESULTS.md
