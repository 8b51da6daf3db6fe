#!/usr/bin/env bash
# Builds the release server binary (`dingding-attendance`) for one Linux architecture,
# cross-compiling when it is not the machine's own. The Dockerfile calls it with Docker's
# TARGETARCH on the build platform (no QEMU); CI and developers can run the same commands
# outside Docker, e.g. to cross-compile for arm64 and run the result under qemu-user:
#
#   scripts/build-server.sh --setup arm64      # rustup target + Debian's cross gcc (once)
#   scripts/build-server.sh arm64 out/arm64    # -> out/arm64/dingding-attendance
#   qemu-aarch64 -L /usr/aarch64-linux-gnu out/arm64/dingding-attendance --version
#
# usage: scripts/build-server.sh [--setup | --cook RECIPE | --print] ARCH [OUT_DIR]
#   ARCH           amd64 or arm64 (Docker's names; x86_64 and aarch64 are accepted too)
#   OUT_DIR        copy the binary to OUT_DIR/dingding-attendance (else just build it)
#   --setup        install what building for ARCH needs: the rustup target and, when
#                  cross-compiling, Debian's gcc-<arch>-linux-gnu (apt-get, as root or via sudo)
#   --cook RECIPE  build only the dependencies from a cargo-chef recipe, with exactly the
#                  flags and environment of the real build (the Dockerfile's cached layer)
#   --print        print the environment and cargo command instead of running them
#
# Only the server is built here: the site (WASM, JS, CSS) does not depend on the
# architecture and comes from `cargo leptos build --release --precompress --split --frontend-only`.
# The site and the server must be built from the same checkout path: server-function URLs
# contain a hash of the app crate's directory (CARGO_MANIFEST_DIR).
#
# Notes on the C code in the dependency tree (checked against Cargo.lock):
#   - aws-lc-sys (rustls' crypto) compiles its C with the `cc` crate, using the target's
#     CC_<triple>/AR_<triple>; it has pregenerated bindings for both targets, so neither
#     cmake nor clang/bindgen is needed.
#   - libsqlite3-sys builds the bundled SQLite with the same `cc` settings.
#   - ring (via quinn) also uses CC_<triple>.
# No RUSTFLAGS are required; RUSTFLAGS from the environment are passed through unchanged
# (the dependency layer and the final build see the same value, so the cache stays valid).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=dingding-attendance
mode=build
recipe=
case "${1:-}" in
  --setup) mode=setup; shift ;;
  --cook) mode=cook; recipe=${2:?--cook needs the recipe path}; shift 2 ;;
  --print) mode=print; shift ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
arch=${1:-}
out_dir=${2:-}

die() { printf 'build-server: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Docker's TARGETARCH -> Rust target triple, GNU tool prefix, Debian cross packages, ELF machine.
triple_for() {
  case "$1" in
    amd64 | x86_64) echo "x86_64-unknown-linux-gnu x86_64-linux-gnu gcc-x86-64-linux-gnu:libc6-dev-amd64-cross 3e" ;;
    arm64 | aarch64) echo "aarch64-unknown-linux-gnu aarch64-linux-gnu gcc-aarch64-linux-gnu:libc6-dev-arm64-cross b7" ;;
    *) return 1 ;;
  esac
}

[ -n "$arch" ] || die "which architecture? usage: $0 [--setup|--cook RECIPE|--print] amd64|arm64 [OUT_DIR]"
target_info=$(triple_for "$arch") || die "unsupported architecture '$arch' (expected amd64 or arm64)"
host_info=$(triple_for "$(uname -m)") || die "unsupported build machine '$(uname -m)' (expected x86_64 or aarch64)"
read -r triple prefix debs elf_machine <<<"$target_info"
read -r host_triple _ <<<"$host_info"
cross=false
how=native
if [ "$triple" != "$host_triple" ]; then
  cross=true
  how="cross-compiled on $(uname -m)"
fi

# Cross-compiling: point cargo's linker and the cc crate (C dependencies) at Debian's cross gcc.
# Variable names follow cargo (CARGO_TARGET_<TRIPLE>_LINKER) and the cc crate (CC_<triple>).
env_vars=()
if $cross; then
  upper=$(tr 'a-z-' 'A-Z_' <<<"$triple")
  lower=${triple//-/_}
  env_vars=(
    "CARGO_TARGET_${upper}_LINKER=${prefix}-gcc"
    "CC_${lower}=${prefix}-gcc"
    "AR_${lower}=${prefix}-ar"
  )
fi

target_dir=${CARGO_TARGET_DIR:-target}
binary="$target_dir/$triple/release/$BIN"
build_cmd=(cargo build --release --locked -p server --bin "$BIN" --target "$triple")
# cargo-chef always cooks with the recipe's copy of Cargo.lock.
cook_cmd=(cargo chef cook --release -p server --target "$triple" --recipe-path "$recipe")

case "$mode" in
  setup)
    if ! rustup target list --installed | grep -qx "$triple"; then
      rustup target add "$triple"
    fi
    if $cross && ! command -v "${prefix}-gcc" >/dev/null; then
      printf '==> installing the %s cross compiler (Debian packages: %s)\n' "$arch" "${debs//:/ }"
      as_root apt-get update -qq
      # shellcheck disable=SC2086 # two package names, split on purpose
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends ${debs//:/ }
    fi
    exit 0
    ;;
  print)
    [ ${#env_vars[@]} -eq 0 ] || printf '%s\n' "${env_vars[@]}"
    printf '%s\n' "${build_cmd[*]}"
    printf 'binary: %s\n' "$binary"
    exit 0
    ;;
  cook)
    printf '==> dependencies for %s (%s, %s)\n' "$arch" "$triple" "$how"
    env "${env_vars[@]}" "${cook_cmd[@]}"
    exit 0
    ;;
esac

if $cross && ! command -v "${prefix}-gcc" >/dev/null; then
  die "${prefix}-gcc not found: run '$0 --setup $arch' first (Debian: ${debs//:/ })"
fi
printf '==> server for %s (%s, %s)\n' "$arch" "$triple" "$how"
env "${env_vars[@]}" "${build_cmd[@]}"

[ -x "$binary" ] || die "cargo finished but $binary is missing"
# ELF header byte 18 is e_machine: 0x3e x86-64, 0xb7 AArch64. Catches a wrong-arch binary
# without needing `file`.
machine=$(od -An -tx1 -j18 -N1 "$binary" | tr -d ' \n')
[ "$machine" = "$elf_machine" ] || die "$binary is for ELF machine 0x$machine, expected 0x$elf_machine ($arch)"

if [ -n "$out_dir" ]; then
  mkdir -p "$out_dir"
  cp "$binary" "$out_dir/$BIN"
  binary="$out_dir/$BIN"
fi
printf '==> %s (%s bytes)\n' "$binary" "$(wc -c <"$binary" | tr -d ' ')"
