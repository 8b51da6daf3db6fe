#!/usr/bin/env bash
# Fuzzes the REST API against its own OpenAPI document (issue 14): Schemathesis sends
# schema-valid and schema-invalid requests to the real debug server and fails on any
# server error, undocumented status, response that breaks its schema, valid request that
# is refused or invalid request that is accepted.
#
#   bash scripts/schemathesis.sh [path/to/dingding-attendance]
#
# Two runs, each against a fresh server (fresh database, so no throttle state carries
# over): one as the installation's API_TOKEN (admin), one as a member signed in with the
# session cookie. ST_MAX_EXAMPLES (default 20) bounds the cases per operation; the seed
# is fixed so a failure reproduces. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
binary=${1:-$target_dir/debug/dingding-attendance}
[ -x "$binary" ] || { echo "no server binary at $binary; run 'cargo build -p server' first" >&2; exit 1; }
venv=${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dingding-attendance/schemathesis}
st=$venv/bin/st
[ -x "$st" ] || { echo "no schemathesis at $st; run 'bash .ci/setup test' first" >&2; exit 1; }
max_examples=${ST_MAX_EXAMPLES:-20}
seed=${ST_SEED:-20261203}
api_token=schemathesis-api-token-0123456789abcdef
member_password=schemathesis-member-passphrase

work=$(mktemp -d)
pid=
stop_server() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

# Starts a server with an empty database in $work/$1; sets $pid and $base.
start_server() {
  local dir=$work/$1
  mkdir -p "$dir/site"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  env -i -C "$dir" PATH="$PATH" APP_ENV=production SECRET_KEY=schemathesis-secret-key-0123456789abcdef \
    ADMIN_PASSWORD=schemathesis-admin-passphrase API_TOKEN="$api_token" \
    HOST=127.0.0.1 PORT="$port" SITE_ROOT="$dir/site" DATA_DIR="$dir/data" LOG_DIR="$dir/logs" \
    UPLOAD_DIR="$dir/uploads" LOG_LEVEL=warn "$binary" serve >"$dir/server.log" 2>&1 &
  pid=$!
  base=http://127.0.0.1:$port
  for _ in $(seq 1 3000); do
    curl -fsS -o /dev/null "$base/api/health" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  echo "the server did not start:" >&2
  cat "$dir/server.log" >&2
  exit 1
}

# The checks every run applies, all but `ignored_auth`: it probes operations with wrong
# credentials, and wrong bearer tokens are throttled per address by design (20 in 15
# minutes, then 429 for every bearer token from that address, the right one included),
# which the check counts as a failure and which would lock the admin run out half-way.
# Refusing missing, wrong, expired and read-only credentials is tested in
# server/tests/api (tokens.rs among others). Other wrong-credential answers the fuzzer
# provokes (401, 429) are documented on every operation and checked here.
phases=examples,coverage,fuzzing,stateful
common=(--checks all --exclude-checks ignored_auth --phases "$phases"
        --max-examples "$max_examples" --seed "$seed" --workers 1 --no-shrink
        --suppress-health-check all --warnings off --request-timeout 30)
failed=0

start_server admin
echo "==> schemathesis as the API token (admin)"
# Credentials go through the document's security schemes (not a raw header), so
# Schemathesis knows the operation's auth is satisfied and generates no other.
config=$work/admin.toml
{ cat scripts/schemathesis.toml; printf '\n[auth.openapi.bearer]\nbearer = "%s"\n' "$api_token"; } >"$config"
"$st" --config-file "$config" run "$base/api/openapi.json" "${common[@]}" || failed=1
stop_server

start_server member
member=$(curl -fsS -X POST "$base/api/v1/users" -H "Authorization: Bearer $api_token" \
  -H 'Content-Type: application/json' \
  -d "{\"username\":\"fuzzmember\",\"password\":\"$member_password\",\"must_change_password\":false}")
[ -n "$member" ] || { echo "could not create the member" >&2; exit 1; }
cookie=$(curl -fsS -o /dev/null -D - -X POST "$base/api/v1/session" -H 'Content-Type: application/json' \
  -d "{\"username\":\"fuzzmember\",\"password\":\"$member_password\"}" \
  | sed -n 's/^[Ss]et-[Cc]ookie: *\(dda_session=[^;]*\).*/\1/p' | head -n 1)
[ -n "$cookie" ] || { echo "could not sign the member in" >&2; exit 1; }
echo "==> schemathesis as a member (session cookie)"
# Signing out would end the session the rest of the run depends on.
config=$work/member.toml
{ cat scripts/schemathesis.toml; printf '\n[auth.openapi.session]\napi_key = "%s"\n' "${cookie#dda_session=}"; } >"$config"
"$st" --config-file "$config" run "$base/api/openapi.json" "${common[@]}" \
  --exclude-operation-id delete_session || failed=1
stop_server

exit "$failed"
