# The commands CI and developers run. `make run` and `make test` work on a fresh machine:
# both install what is missing first (.ci/setup).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# wasm-opt comes from npm's binaryen (Debian's breaks hydration); cargo tools from ~/.cargo/bin.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
SITE_ROOT := $(CURDIR)/target/site
BIN_DEBUG := $(TARGET_DIR)/debug/dingding-attendance
BIN_RELEASE := $(TARGET_DIR)/release/dingding-attendance

.PHONY: help setup setup-test env run dev release lint test test-rust test-postgres test-browser check-openapi check-deploy check-image fmt bench bench-pages clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: ## install the build tools a fresh machine lacks (skips what is there)
	bash .ci/setup

setup-test: ## the build tools plus chromium, wrk and fonts for tests and benchmarks
	bash .ci/setup test

env: ## create .env with a fresh SECRET_KEY and first admin password if there is none
	@if [ ! -f .env ]; then \
	  key=$$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n'); \
	  password=$$(LC_ALL=C tr -dc 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789' < /dev/urandom | head -c 16 || true); \
	  sed -e "s/^SECRET_KEY=.*/SECRET_KEY=$$key/" -e "s/^ADMIN_PASSWORD=.*/ADMIN_PASSWORD=$$password/" .env.example > .env; \
	  echo "created .env with a new SECRET_KEY; first login: admin / $$password (also in .env)"; \
	fi

release: setup ## build the optimised server and site (target/site, precompressed)
	cargo leptos build --release --precompress --split

run: release env ## build and run the app on http://localhost:5000 (embedded SQLite in data/)
	SITE_ROOT="$(SITE_ROOT)" "$(BIN_RELEASE)" serve

dev: setup ## live-reloading development server (cargo leptos watch, development mode)
	cargo leptos watch --split

# cargo-leptos builds the debug server with this flag; using it for lint and tests too lets
# all of them share one set of compiled dependencies instead of building them twice.
lint test-rust test-postgres test-browser check-openapi: export RUSTFLAGS := --cfg erase_components

fmt: ## format the code
	cargo fmt --all

lint: ## rustfmt check and clippy -D warnings for the server (ssr) and browser (hydrate) builds
	cargo fmt --all -- --check
	cargo clippy -p server -p app -p migration --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

test-rust: ## unit and HTTP integration tests
	cargo test -p app -p server -p migration

test-postgres: ## the unit and HTTP tests again on PostgreSQL: a throwaway cluster of their own (scripts/pg-cluster.sh)
	cluster=$$(mktemp -d "$${TMPDIR:-/tmp}/dda-pg.XXXXXX"); \
	trap 'bash scripts/pg-cluster.sh stop "$$cluster"' EXIT; \
	url=$$(bash scripts/pg-cluster.sh start "$$cluster"); \
	echo "PostgreSQL test cluster: $$url"; \
	TEST_DATABASE_URL="$$url" cargo test -p app -p server -p migration

test-browser: ## headless-Chromium tests against the debug build
	cargo leptos build --split
	cd end2end && SERVER_BIN="$(BIN_DEBUG)" SITE_ROOT="$(SITE_ROOT)" node --test --test-concurrency=1 tests/*.test.mjs

check-openapi: ## Schemathesis against the debug server: the API answers exactly what its OpenAPI document says
	cargo build -p server
	bash scripts/schemathesis.sh "$(BIN_DEBUG)"

check-deploy: ## hadolint, actionlint, shellcheck and compose checks of the deployment files
	bash scripts/check-deploy.sh

check-image: ## arm64 server cross-compiled as the Dockerfile does, run under qemu in the image's layout
	bash scripts/check-arm64-image.sh

test: setup-test lint test-rust test-postgres test-browser check-openapi check-deploy check-image ## everything CI runs

bench: setup-test ## release build + size, start-up, memory and load figures into bench/RESULTS.md
	bash bench/run.sh

bench-pages: ## signed-in pages under load on the profiling build: minutes per measure-change-measure cycle
	BENCH_PROFILE=profiling bash bench/pages-load.sh

clean: ## remove build output
	cargo clean
