# syntax=docker/dockerfile:1
#
# dingding-attendance image: ghcr.io/<owner>/dingding-attendance-system
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t dingding-attendance-system .
#
# Stages (all builders run on the build machine's own platform, never under QEMU):
#   node     Node.js and binaryen's wasm-opt from end2end/package-lock.json (Debian's
#            binaryen breaks hydration, see ../shared/docs/toolchain.md)
#   chef     Rust + cargo-chef + cargo-leptos + wasm-bindgen-cli (same version as Cargo.lock)
#   planner  cargo-chef recipe: the dependency graph only, so dependency layers stay cached
#            until Cargo.toml/Cargo.lock change
#   site     WASM + JS + CSS, built once for every target architecture (architecture-free)
#   server   the binary for TARGETARCH, cross-compiled by scripts/build-server.sh
#   runtime  debian-slim + CA certificates + tzdata + the binary + the site, non-root
#
# The site and the server are compiled at the same path (/build): server-function URLs
# contain a hash of the app crate's directory, and both halves must agree on it.

ARG RUST_VERSION=1.95
ARG NODE_VERSION=22
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS node
WORKDIR /build/end2end
COPY end2end/package.json end2end/package-lock.json ./
# No package in the lock file has install scripts; playwright-core does not fetch browsers.
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
 && node_modules/.bin/wasm-opt --version

# ---------------------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS lockinfo
# The wasm-bindgen CLI must be exactly Cargo.lock's wasm-bindgen version (cargo-leptos does
# not check). Read it the way .ci/setup does; only this one line reaches the next stage, so
# other Cargo.lock changes keep the tool layers cached.
COPY Cargo.lock /tmp/Cargo.lock
RUN awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' /tmp/Cargo.lock \
      > /wasm-bindgen-version \
 && grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' /wasm-bindgen-version

# ---------------------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS chef
ARG CARGO_CHEF_VERSION=0.1.77
ARG CARGO_LEPTOS_VERSION=0.3.10
# Unlocked installs pick dependency versions that this rustc supports.
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0 \
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback
WORKDIR /build
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}" \
 && cargo install cargo-leptos --locked --version "${CARGO_LEPTOS_VERSION}" \
 && rm -rf /usr/local/cargo/registry
COPY --from=lockinfo /wasm-bindgen-version /tmp/wasm-bindgen-version
# --locked first (reproducible); without it as .ci/setup does, for registry mirrors that
# lack a crate version named in the CLI's own lock file.
RUN version="$(cat /tmp/wasm-bindgen-version)" \
 && { cargo install wasm-bindgen-cli --locked --version "${version}" \
      || cargo install wasm-bindgen-cli --version "${version}"; } \
 && rm -rf /usr/local/cargo/registry \
 && test "$(wasm-bindgen --version)" = "wasm-bindgen ${version}"

# ---------------------------------------------------------------------------------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# ---------------------------------------------------------------------------------------
# The browser half: no TARGETARCH here, so BuildKit builds this stage once and shares it
# between linux/amd64 and linux/arm64.
FROM chef AS site
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /build/end2end/node_modules /build/end2end/node_modules
ENV PATH=/build/end2end/node_modules/.bin:$PATH
COPY --from=planner /build/recipe.json recipe.json
# Dependencies only, with the exact flags cargo-leptos uses for the release front end
# (its target dir is target/front; lib-profile-release = wasm-release; `--split` links
# with relocations kept, and RUSTFLAGS is part of what cargo reuses builds by).
RUN RUSTFLAGS="-Clink-args=--emit-relocs" cargo chef cook --profile wasm-release --target wasm32-unknown-unknown \
      --target-dir target/front -p frontend --no-default-features --recipe-path recipe.json
COPY . .
RUN cargo leptos build --release --precompress --split --frontend-only \
 && test -s target/site/pkg/dingding-attendance.wasm \
 && test -s target/site/pkg/dingding-attendance.js \
 && test -s target/site/pkg/dingding-attendance.css \
 && test -s target/site/pkg/__wasm_split_manifest.json

# ---------------------------------------------------------------------------------------
# The server half, per target architecture, cross-compiled on the build platform.
FROM chef AS server
ARG TARGETARCH
COPY scripts/build-server.sh scripts/build-server.sh
RUN scripts/build-server.sh --setup "${TARGETARCH}" \
 && rm -rf /var/lib/apt/lists/*
COPY --from=planner /build/recipe.json recipe.json
RUN scripts/build-server.sh --cook recipe.json "${TARGETARCH}"
COPY . .
RUN scripts/build-server.sh "${TARGETARCH}" /out

# ---------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Fixed ids: deploy-from-image.sh gives ./data ./logs ./uploads to this uid/gid.
ARG APP_UID=10001
ARG APP_GID=10001
# ca-certificates: HTTPS to DingTalk/Feishu robots; tzdata: TZ/TIMEZONE names.
# Not version-pinned: the Debian release is pinned, and its security updates should land.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid "${APP_GID}" app \
 && useradd --system --uid "${APP_UID}" --gid app --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin app \
 && mkdir -p /app/data /app/logs /app/uploads \
 && chown app:app /app/data /app/logs /app/uploads

COPY --from=site /build/target/site /app/site
COPY --from=server /out/dingding-attendance /app/dingding-attendance

LABEL org.opencontainers.image.title="dingding-attendance-system" \
      org.opencontainers.image.description="钉钉打卡提醒系统: shift schedules and clock-in reminders" \
      org.opencontainers.image.licenses="MIT"

# TIMEZONE (the reminder schedule's zone) is left to the deployment; without it the server
# uses TZ. HOST/PORT are the address inside the container; publish another host port with
# compose's PORT instead of changing these.
ENV SITE_ROOT=/app/site \
    DATA_DIR=/app/data \
    LOG_DIR=/app/logs \
    UPLOAD_DIR=/app/uploads \
    TZ=Asia/Shanghai \
    HOST=0.0.0.0 \
    PORT=5000

WORKDIR /app
USER ${APP_UID}:${APP_GID}
EXPOSE 5000
VOLUME ["/app/data", "/app/logs", "/app/uploads"]

# The binary's own probe of /api/health (no curl in the image); it reads PORT like the server.
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/app/dingding-attendance", "healthcheck"]

# Exec form: the server is PID 1 and receives SIGTERM from `docker stop` directly.
ENTRYPOINT ["/app/dingding-attendance"]
CMD ["serve"]
