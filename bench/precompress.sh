#!/usr/bin/env bash
# Writes .gz and .br next to each wasm/js/css file of the built site, so the server sends
# them compressed without compressing on every request.
set -euo pipefail
site_root=${1:?usage: precompress.sh SITE_ROOT}
find "$site_root" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.svg' \) -print0 |
  while IFS= read -r -d '' file; do
    gzip -9 -k -f "$file"
    brotli -q 11 -k -f "$file"
  done
