#!/usr/bin/env bash
# One-command deploy of dingding-attendance (钉钉打卡提醒系统) with Docker Compose.
#
#   ./deploy-from-image.sh     pull the published image (ghcr.io) and start it
#   ./docker-start.sh          the same, but build the image from this checkout
#
# Run it from the directory holding docker-compose.yml (and .env.example, if you have it).
# It checks Docker and Compose, creates .env with a fresh SECRET_KEY and first admin
# password if there is none, prepares data/ logs/ uploads/ for the container's user, pulls
# (or builds), starts, and waits until the container reports healthy. Re-running it upgrades
# in place: new image, container recreated; data/, logs/, uploads/ and .env are kept.
#
# Options:
#   --build            build from source (docker-compose.build.yml); docker-start.sh sets it
#   --timeout SECONDS  how long to wait for "healthy" (default 180, or HEALTH_TIMEOUT)
#   -h, --help         this text
# Environment (optional, saved to .env when given):
#   GHCR_OWNER=<github user/org>   whose image to pull (default in docker-compose.yml)
#   TAG=<tag>                      image tag, e.g. 1.2.3 (default latest)
# PostgreSQL instead of SQLite: this script does not use docker-compose.postgres.yml; start
# that override by hand (README: 多副本部署（PostgreSQL）).
set -euo pipefail
cd "$(dirname "$0")"

readonly SERVICE=web
readonly DIRS=(data logs uploads)
# The image's non-root user (Dockerfile: ARG APP_UID/APP_GID). Read from the image when
# possible; these are the fallback.
APP_UID=10001
APP_GID=10001

mode=image
timeout=${HEALTH_TIMEOUT:-180}
self=$0

# ---- output ---------------------------------------------------------------------------
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\e[1m' green=$'\e[32m' yellow=$'\e[33m' red=$'\e[31m' reset=$'\e[0m'
else
  bold='' green='' yellow='' red='' reset=''
fi
step() { printf '%s==>%s %s\n' "$bold" "$reset" "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf '%swarning:%s %s\n' "$yellow" "$reset" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$red" "$reset" "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --build) mode=build ;;
    --timeout) timeout=${2:-}; shift ;;
    --timeout=*) timeout=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see $0 --help)" ;;
  esac
  shift
done
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout expects a number of seconds, got '$timeout'"

# ---- .env helpers ---------------------------------------------------------------------
# The value of NAME in .env (last assignment wins, as in Compose), without quotes.
env_get() {
  local line
  line=$(grep -E "^[[:space:]]*$1=" .env 2>/dev/null | tail -n 1) || true
  line=${line#*=}
  line=${line%$'\r'}
  line=${line#[\"\']}
  line=${line%[\"\']}
  printf '%s' "$line"
}
# Sets NAME=VALUE in .env: replaces the first assignment, drops later ones, or appends.
# Values here are generated or validated (no quotes, backslashes or newlines).
env_set() {
  local tmp
  tmp=$(mktemp .env.XXXXXX)
  awk -v k="$1" -v v="$2" '
    $0 ~ "^[[:space:]]*" k "=" { if (!done) print k "=" v; done = 1; next }
    { print }
    END { if (!done) print k "=" v }
  ' .env >"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" .env
}
random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
random_password() {
  local chars
  # No look-alike characters (0/O, 1/l/I); read a fixed amount so no pipe is cut short.
  chars=$(head -c 600 /dev/urandom | LC_ALL=C tr -dc 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789')
  printf '%s' "${chars:0:16}"
}

# ---- 1. Docker and Compose ------------------------------------------------------------
step "checking Docker and Docker Compose"
command -v docker >/dev/null 2>&1 \
  || die "Docker is not installed. Install Docker Engine (https://docs.docker.com/engine/install/; on Debian/Ubuntu: curl -fsSL https://get.docker.com | sudo sh), then run this script again."
if ! docker_error=$(docker info 2>&1 >/dev/null); then
  if grep -qi 'permission denied' <<<"$docker_error"; then
    die "$(id -un) may not use Docker. Either add yourself to the docker group (sudo usermod -aG docker $(id -un), then log out and back in) or run: sudo $0"
  fi
  die "the Docker daemon is not running or not reachable (${docker_error##*$'\n'}). Start it with: sudo systemctl start docker"
fi

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
  note "Compose v2 plugin: $(docker compose version --short 2>/dev/null || echo found)"
elif command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
  compose=(docker-compose)
  warn "using the old docker-compose v1 (no longer maintained); the v2 plugin is recommended: sudo apt-get install docker-compose-plugin"
else
  die "Docker Compose is not installed. Install the v2 plugin (Debian/Ubuntu with Docker's apt repository: sudo apt-get install docker-compose-plugin; otherwise https://docs.docker.com/compose/install/linux/). The old standalone docker-compose v1 works too."
fi

case "$(uname -m)" in
  x86_64 | amd64 | aarch64 | arm64) ;;
  *) warn "the published image is for x86_64 and aarch64 (arm64) only; this machine is $(uname -m)" ;;
esac

[ -f docker-compose.yml ] || die "docker-compose.yml is missing in $(pwd): download it next to this script (it is in the project's repository)."
if [ "$mode" = build ]; then
  if [ ! -f Dockerfile ] || [ ! -f docker-compose.build.yml ]; then
    die "building from source needs the whole checkout (Dockerfile, docker-compose.build.yml); use ./deploy-from-image.sh for the published image"
  fi
  compose+=(-f docker-compose.yml -f docker-compose.build.yml)
  # Your own docker-compose.override.yml still applies, as it does without -f.
  [ ! -f docker-compose.override.yml ] || compose+=(-f docker-compose.override.yml)
  self=./docker-start.sh
  # BuildKit is required (FROM --platform, TARGETARCH); older engines and Compose v1 need asking.
  export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
fi

# ---- 2. .env --------------------------------------------------------------------------
created_env=false
generated_password=
if [ ! -f .env ]; then
  step "creating .env with a new SECRET_KEY and first admin password"
  key=$(random_hex)
  generated_password=$(random_password)
  if [ ${#key} -ne 64 ] || [ ${#generated_password} -ne 16 ]; then
    die "could not generate random values from /dev/urandom"
  fi
  (
    umask 077
    if [ -f .env.example ]; then
      sed -e "s/^SECRET_KEY=.*/SECRET_KEY=$key/" \
          -e "s/^ADMIN_PASSWORD=.*/ADMIN_PASSWORD=$generated_password/" .env.example >.env
      grep -q '^SECRET_KEY=' .env || echo "SECRET_KEY=$key" >>.env
      grep -q '^ADMIN_PASSWORD=' .env || echo "ADMIN_PASSWORD=$generated_password" >>.env
    else
      note ".env.example not found: writing a minimal .env (see the README for every setting)"
      printf '%s\n' "APP_ENV=production" "SECRET_KEY=$key" "ADMIN_PASSWORD=$generated_password" \
        "COOKIE_SECURE=false" "TIMEZONE=Asia/Shanghai" "PORT=5000" >.env
    fi
  )
  created_env=true
else
  case "$(env_get SECRET_KEY)" in
    "" | your-secret-key-here | your-secret-key-change-this | change-me | changeme | secret)
      env_set SECRET_KEY "$(random_hex)"
      warn "SECRET_KEY in .env was empty or the example value; replaced it with a generated one"
      ;;
  esac
fi
chmod 600 .env 2>/dev/null || true

# Which image: GHCR_OWNER/TAG from the environment are saved, so that plain `docker compose`
# commands later use the same image. Registry paths must be lowercase.
saved_owner=$(env_get GHCR_OWNER)
owner=${GHCR_OWNER:-$saved_owner}
if [ -n "$owner" ]; then
  owner=$(tr '[:upper:]' '[:lower:]' <<<"$owner")
  [[ $owner =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] || die "GHCR_OWNER='$owner' is not a GitHub user or organisation name"
  [ "$owner" = "$saved_owner" ] || { env_set GHCR_OWNER "$owner"; note "saved GHCR_OWNER=$owner in .env"; }
  export GHCR_OWNER=$owner
fi
if [ -n "${TAG:-}" ]; then
  [[ $TAG =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "TAG='$TAG' is not a valid image tag"
  [ "$TAG" = "$(env_get TAG)" ] || { env_set TAG "$TAG"; note "saved TAG=$TAG in .env"; }
fi

if ! config_error=$("${compose[@]}" config -q 2>&1); then
  die "Compose cannot read the configuration: $config_error"
fi
image=$("${compose[@]}" config 2>/dev/null | awk '$1 == "image:" { print $2; exit }')
image=${image//\"/}
[ -n "$image" ] || die "no image found for service '$SERVICE' in docker-compose.yml"

# ---- 3. image -------------------------------------------------------------------------
if [ "$mode" = image ]; then
  step "pulling $image"
  if ! "${compose[@]}" pull "$SERVICE"; then
    die "could not pull $image. Check the network, that this machine is x86_64 or aarch64 (it is $(uname -m)), that the tag exists (TAG in .env; tags are latest, X.Y.Z, X.Y, sha-<commit>), and the owner (GHCR_OWNER in .env: the GitHub user or org whose workflow publishes the image, lowercase). A private package needs: docker login ghcr.io"
  fi
else
  step "building $image from source (the first build takes 20-40 minutes; later ones reuse cached layers)"
  "${compose[@]}" build "$SERVICE" || die "the image build failed (see the output above)"
fi

user=$(docker image inspect --format '{{.Config.User}}' "$image" 2>/dev/null || true)
if [[ $user =~ ^([0-9]+):([0-9]+)$ ]]; then
  APP_UID=${BASH_REMATCH[1]}
  APP_GID=${BASH_REMATCH[2]}
fi

# ---- 4. data directories --------------------------------------------------------------
# The server runs as uid $APP_UID inside the container and must own the bind-mounted
# directories. Nothing is done when everything in them already belongs to it; otherwise
# (new directories, or data from the original Flask version, which ran as root) they are
# handed over recursively.
mkdir -p "${DIRS[@]}"
if [ -n "$(find "${DIRS[@]}" \( ! -uid "$APP_UID" -o ! -gid "$APP_GID" \) -print -quit 2>/dev/null)" ]; then
  step "giving ${DIRS[*]} to the container's user (uid $APP_UID, gid $APP_GID)"
  if [ "$(id -u)" = 0 ]; then
    chown -R "$APP_UID:$APP_GID" "${DIRS[@]}"
  # Without root: a throwaway container of the image runs chown through the same mounts,
  # which any user allowed to use Docker may do; no sudo needed.
  elif "${compose[@]}" run --rm --no-deps -T --user 0:0 --entrypoint chown "$SERVICE" \
      -R "$APP_UID:$APP_GID" /app/data /app/logs /app/uploads >/dev/null; then
    :
  elif command -v sudo >/dev/null 2>&1; then
    note "sudo is needed once to make uid $APP_UID (the container's non-root user) the owner"
    sudo chown -R "$APP_UID:$APP_GID" "${DIRS[@]}"
  else
    die "cannot change the owner of ${DIRS[*]}; as root run: chown -R $APP_UID:$APP_GID ${DIRS[*]}"
  fi
fi

# ---- 5. start and wait until healthy --------------------------------------------------
database_url=${DATABASE_URL:-$(env_get DATABASE_URL)}
# The server's database is data/attendance.db; data/app.db is either this server's from
# before that name (still used) or the Flask version's (never touched, to be imported).
# SQLite keeps table names as plain text in the file: our migrations table tells them apart.
ours_in_app_db=false
legacy_database=false
if [ -e data/app.db ]; then
  if grep -qa seaql_migrations data/app.db 2>/dev/null; then
    ours_in_app_db=true
  elif grep -qa shift_types data/app.db 2>/dev/null; then
    legacy_database=true
  fi
fi
fresh_database=false
[ -z "$database_url" ] && [ ! -e data/attendance.db ] && ! $ours_in_app_db && fresh_database=true

container=
show_failure() {
  printf '%serror:%s %s\n' "$red" "$reset" "$1" >&2
  if [ -n "$container" ]; then
    local probes
    probes=$(docker inspect --format '{{if .State.Health}}{{range .State.Health.Log}}{{.Output}}{{end}}{{end}}' "$container" 2>/dev/null | grep -v '^$' | tail -n 3 || true)
    [ -z "$probes" ] || printf -- '---- last health checks ----\n%s\n' "$probes" >&2
  fi
  printf -- '---- last 50 log lines (%s logs %s) ----\n' "${compose[*]}" "$SERVICE" >&2
  "${compose[@]}" logs --no-color --tail 50 "$SERVICE" >&2 || true
  printf '\nFix the cause (often a value in .env) and run %s again; data is untouched.\n' "$self" >&2
  exit 1
}

step "starting the container"
if ! "${compose[@]}" up -d --remove-orphans "$SERVICE"; then
  show_failure "could not start the container (is another program using the port? check: docker ps)"
fi
container=$("${compose[@]}" ps -q "$SERVICE")
[ -n "$container" ] || show_failure "the container was not created"
# A container kept from an earlier run may have restarted before; count from now.
initial_restarts=$(docker inspect --format '{{.RestartCount}}' "$container" 2>/dev/null || echo 0)

step "waiting for the container to become healthy (up to ${timeout}s)"
deadline=$((SECONDS + timeout))
last=
while :; do
  state=$(docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}' "$container" 2>/dev/null) \
    || state="missing none 0"
  read -r status health restarts <<<"$state"
  [ "$health" = healthy ] && break
  if [ "$status" != running ] || [ "$restarts" -gt "$initial_restarts" ]; then
    show_failure "the server stopped (container $status, restarted $((restarts - initial_restarts)) times)"
  fi
  [ "$health" != unhealthy ] || show_failure "the container reports unhealthy"
  [ "$health" != none ] || show_failure "the image has no HEALTHCHECK; is $image really dingding-attendance?"
  [ $SECONDS -lt $deadline ] || show_failure "not healthy after ${timeout}s (container $status, health $health)"
  if [ "$health" != "$last" ]; then
    note "$health"
    last=$health
  fi
  sleep 2
done
# docker inspect --format '{{.State.Health.Status}}' now says healthy.

# ---- 6. summary -----------------------------------------------------------------------
port=$(docker port "$container" 5000/tcp 2>/dev/null | head -n 1 || true)
port=${port##*:}
port=${port:-5000}
address=$(hostname -I 2>/dev/null | awk '{ print $1 }' || true)

printf '\n%s%sdingding-attendance is running%s (%s)\n' "$bold" "$green" "$reset" "$image"
printf '  URL:    http://localhost:%s\n' "$port"
[ -z "$address" ] || printf '          http://%s:%s\n' "$address" "$port"

admin_password=$(env_get ADMIN_PASSWORD)
if $fresh_database || { $created_env && [ -n "$database_url" ]; }; then
  if [ -n "$admin_password" ]; then
    printf '  Login:  admin / %s%s%s' "$bold" "$admin_password" "$reset"
    if $created_env; then printf '   (generated; also in .env as ADMIN_PASSWORD)\n'; else printf '   (ADMIN_PASSWORD in .env)\n'; fi
    printf '          Choose your own password after the first login.\n'
  else
    first_run=$("${compose[@]}" logs --no-color "$SERVICE" 2>/dev/null | grep -o 'FIRST RUN: admin login = admin / [^ ]*' | tail -n 1 || true)
    if [ -n "$first_run" ]; then
      printf '  Login:  %s (shown once; you choose a new password at first login)\n' "${first_run#FIRST RUN: admin login = }"
    else
      printf '  Login:  admin; the first password is in the log: %s logs %s | grep "FIRST RUN"\n' "${compose[*]}" "$SERVICE"
    fi
  fi
else
  printf '  Login:  existing accounts are unchanged (forgot the admin password? see "reset" below)\n'
fi
if [ -z "$database_url" ] && $legacy_database; then
  printf '\n%sFound the database of the Flask version in data/app.db%s (left untouched). Import its users\n' "$yellow" "$reset"
  printf '(old passwords keep working), shifts, schedules and settings; preview with --dry-run:\n'
  printf '  %s exec %s /app/dingding-attendance import-legacy /app/data/app.db\n' "${compose[*]}" "$SERVICE"
fi

if $created_env; then
  printf '\n%sNext:%s fill in .env, then run %s again (or: %s up -d):\n' "$bold" "$reset" "$self" "${compose[*]}"
  printf '  WORKING_URL / NO_WORK_URL   robot webhooks for the clock-in / clock-out reminders\n'
  printf '  CHECK_URL (+ CHECK_MODE)    the "already punched?" check, optional\n'
  printf '  API_TOKEN                   bearer token for the JSON API, optional\n'
  printf '  TIMEZONE, COOKIE_SECURE     COOKIE_SECURE=true only when users come in over HTTPS\n'
  printf '  Reminder settings left empty can be managed on the 系统设置 page instead.\n'
fi

upgrade=$self
[ "$mode" = image ] || upgrade="git pull && $self"
c=${compose[*]}
printf '\nCommon commands (in %s):\n' "$(pwd)"
printf '  %s\n      %s\n' \
  "$c ps" "status and health" \
  "$c logs -f $SERVICE" "follow the log (files in ./logs too)" \
  "$c restart $SERVICE" "restart" \
  "$c down" "stop and remove the container; data stays in ./data" \
  "$upgrade" "upgrade in place: new image, container recreated, same data" \
  "$c exec -e ADMIN_PASSWORD= $SERVICE /app/dingding-attendance create-admin admin" \
  "forgotten password: set a new one for admin (prompts)" \
  "$c exec -T $SERVICE /app/dingding-attendance backup" \
  "consistent copy of the live database into ./data/backups/ (safe while running)" \
  "docker image prune" "delete superseded images after upgrades"
printf '  Keep copies of ./data/backups, ./uploads and .env elsewhere; README: 备份与恢复.\n'
