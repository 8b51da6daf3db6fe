#!/usr/bin/env bash
# Build the image from this checkout and (re)start it: the same steps as
# deploy-from-image.sh (Docker/Compose checks, .env with a generated SECRET_KEY and admin
# password, data/ logs/ uploads/ ownership, wait until healthy, summary), with
# `docker compose -f docker-compose.yml -f docker-compose.build.yml build` instead of a pull.
# Re-run after `git pull` to upgrade in place; data is kept.
#
# usage: ./docker-start.sh [--timeout SECONDS]
set -euo pipefail
exec "$(dirname "$0")/deploy-from-image.sh" --build "$@"
