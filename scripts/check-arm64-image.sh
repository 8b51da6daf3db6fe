#!/usr/bin/env bash
# What can be proved about the image without a Docker engine:
#   1. The ARM64 server: cross-compiled for aarch64-unknown-linux-gnu exactly as the
#      Dockerfile does it (scripts/build-server.sh), next to the release site directory
#      (`cargo leptos build --release --precompress --split --frontend-only`, as the Dockerfile).
#   2. The runtime stage, laid out in a temporary directory the way the image has it
#      (/app/dingding-attendance, /app/site, empty /app/data /app/logs /app/uploads, the
#      Dockerfile's ENV, .env.example plus a SECRET_KEY), run under qemu-user as a non-root
#      user: /api/health answers "ok", the login page and the home page render, the binary's
#      own `healthcheck` subcommand passes, and SIGTERM stops it cleanly (exit 0).
# Writes the binary sizes to bench/out/arm64-image.txt. Installs qemu-user and the cross
# gcc from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}

log() { printf '==> %s\n' "$*"; }
die() { printf 'check-arm64-image: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v qemu-aarch64 >/dev/null; then
  log "installing qemu-user (Debian)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends qemu-user
fi
scripts/build-server.sh --setup arm64

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

log "cross-compiling the server for arm64 (scripts/build-server.sh, as the Dockerfile)"
scripts/build-server.sh arm64 "$work/out"
log "building the release site once (architecture-free, as the Dockerfile)"
cargo leptos build --release --precompress --split --frontend-only >"$work/site-build.log" 2>&1 \
  || { tail -30 "$work/site-build.log" >&2; die "site build failed"; }
[ -s target/site/pkg/dingding-attendance.wasm ] || die "no release site in target/site"

# The runtime stage: /app as the image lays it out, owned by root except the data dirs.
app=$work/app
mkdir -p "$app/data" "$app/logs" "$app/uploads"
cp "$work/out/dingding-attendance" "$app/dingding-attendance"
cp -r target/site "$app/site"
chmod -R a+rX "$work"
run_as=()
uid=$(id -u)
if [ "$uid" = 0 ]; then
  uid=10001
  # The image's user is uid 10001 without a name on this machine; setpriv needs none.
  chown -R 10001:10001 "$app/data" "$app/logs" "$app/uploads"
  run_as=(setpriv --reuid=10001 --regid=10001 --clear-groups)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# .env.example as a user would start from it, with its placeholder key replaced; the
# Dockerfile's ENV on top (HOST is loopback here instead of 0.0.0.0, the only difference).
grep -v '^SECRET_KEY=' .env.example > "$app/.env"
echo "SECRET_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >> "$app/.env"
echo "ADMIN_PASSWORD=arm64-smoke-passphrase" >> "$app/.env"
image_env=(SITE_ROOT=/app/site DATA_DIR=/app/data LOG_DIR=/app/logs UPLOAD_DIR=/app/uploads
  TZ=Asia/Shanghai HOST=127.0.0.1 PORT="$port")
image_env=("${image_env[@]//\/app/$app}")

log "starting the arm64 binary under qemu-aarch64 as uid $uid"
(cd "$app" && exec env -i PATH=/usr/bin:/bin "${image_env[@]}" "${run_as[@]}" \
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$app/dingding-attendance" serve) >"$work/server.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
healthy=false
for _ in $(seq 1 600); do
  if curl -fsS -o "$work/health.json" "$base/api/health" 2>/dev/null; then healthy=true; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
$healthy || { cat "$work/server.log" >&2; die "the arm64 server did not become healthy"; }
grep -q '"status":"ok"' "$work/health.json" || die "health is not ok: $(cat "$work/health.json")"
log "health: $(cat "$work/health.json")"

login=$(curl -fsS "$base/login")
grep -q '登录' <<<"$login" || die "the login page did not render"
grep -q 'dingding-attendance.wasm\|dingding-attendance.js' <<<"$login" || die "the login page does not load the site's bundle"
home_status=$(curl -s -o /dev/null -w '%{http_code}' "$base/")
case "$home_status" in 200 | 302 | 303 | 307) ;; *) die "home page answered $home_status" ;; esac
wasm_status=$(curl -s -o /dev/null -w '%{http_code}' "$base/pkg/dingding-attendance.wasm")
[ "$wasm_status" = 200 ] || die "the wasm bundle answered $wasm_status"
(cd "$app" && env -i PORT="$port" qemu-aarch64 -L /usr/aarch64-linux-gnu "$app/dingding-attendance" healthcheck) \
  || die "the binary's healthcheck subcommand failed"
log "login page, home ($home_status), wasm bundle and the healthcheck subcommand: ok"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || { tail -20 "$work/server.log" >&2; die "SIGTERM: exit status $status, expected 0"; }
log "SIGTERM: clean exit 0"
[ -s "$app/data/attendance.db" ] || die "no database in /app/data"
if [ "$(id -u)" = 0 ]; then
  [ "$(stat -c %u "$app/data/attendance.db")" = 10001 ] || die "the database is not owned by the image's user"
fi

mkdir -p bench/out
x86=$target_dir/release/dingding-attendance
{
  echo "arm64 release binary (stripped): $(( $(stat -c %s "$app/dingding-attendance") / 1024 )) KiB"
  [ -x "$x86" ] && echo "x86_64 release binary (stripped): $(( $(stat -c %s "$x86") / 1024 )) KiB"
  echo "site directory: $(du -sk "$app/site" | cut -f1) KiB"
} | tee bench/out/arm64-image.txt
log "arm64 image check passed"
