#!/usr/bin/env bash
# Hostile-input figures (issue 14): the server's peak RSS under a flood of large bodies to
# the unauthenticated sign-in route, and time and memory to refuse hostile XLSX uploads.
# Figures are printed (and appended to bench/RESULTS.md with --record), never asserted.
#
#   bash bench/abuse.sh [--record] [path/to/dingding-attendance]
#
# Without a path it uses the release binary if built, else the debug one.
set -euo pipefail
cd "$(dirname "$0")/.."
record=false
if [ "${1:-}" = --record ]; then record=true; shift; fi
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
binary=${1:-}
if [ -z "$binary" ]; then
  binary=$target_dir/release/dingding-attendance
  [ -x "$binary" ] || binary=$target_dir/debug/dingding-attendance
fi
[ -x "$binary" ] || { echo "no server binary at $binary; build it first" >&2; exit 1; }
api_token=bench-api-token-0123456789abcdef

work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -i -C "$work" PATH="$PATH" APP_ENV=production SECRET_KEY=bench-secret-key-0123456789abcdef \
  ADMIN_PASSWORD=bench-admin-passphrase API_TOKEN="$api_token" \
  HOST=127.0.0.1 PORT="$port" SITE_ROOT="$work/site" LOG_LEVEL=warn "$binary" serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/api/health" 2>/dev/null && break
  sleep 0.01
done

report=$(python3 - "$port" "$pid" "$api_token" <<'PY'
import http.client, io, sys, threading, time, zipfile

port, pid, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def status_kib(field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

def rss_mib():
    try:
        return status_kib("VmRSS") / 1024
    except OSError:
        return 0.0  # the server is gone

peak = [rss_mib()]
stop = threading.Event()
def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mib())
        time.sleep(0.005)

def flood(size, parallel, path):
    body = b"{" + b" " * (size - 1)
    def one():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            conn.getresponse().read()
        except OSError:
            pass  # the server answers 413 and closes while we are still sending
        finally:
            conn.close()
    threads = [threading.Thread(target=one) for _ in range(parallel)]
    for t in threads: t.start()
    for t in threads: t.join()

def upload(data):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.monotonic()
    try:
        conn.request("POST", "/api/v1/schedules/import?format=xlsx", body=data,
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": "application/octet-stream"})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, time.monotonic() - start, text
    except OSError as error:
        return "none", time.monotonic() - start, f"connection lost: {error!r} (did the server die?)"


def xlsx(shared_strings, sheet, bomb=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/sharedStrings.xml", shared_strings)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if bomb:
            z.writestr("xl/media/bomb.bin", b"\0" * bomb)
    return buf.getvalue()

sst_ok = '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>date</t></si></sst>'
sheet_ok = '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
probes = {
    "sharedStrings uniqueCount=10^13": xlsx(sst_ok.replace('uniqueCount="1"', 'uniqueCount="10000000000000"'), sheet_ok),
    "cells at A1 and XFD1048576": xlsx(sst_ok, sheet_ok.replace("</row>", '</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')),
    "zip entry inflating to 200 MB": xlsx(sst_ok, sheet_ok, bomb=200 * 1024 * 1024),
}

threading.Thread(target=sample, daemon=True).start()
idle = rss_mib()
lines = [f"- idle RSS: {idle:.0f} MiB"]
peak[0] = idle
flood(16 * 1024 * 1024, 40, "/api/v1/session")
time.sleep(0.2)
lines.append(f"- 40 parallel 16 MiB bodies to POST /api/v1/session: peak RSS {peak[0]:.0f} MiB (+{peak[0] - idle:.0f} MiB)")
for name, data in probes.items():
    before = rss_mib()
    peak[0] = before
    status, seconds, text = upload(data)
    time.sleep(0.05)
    lines.append(f"- XLSX {name} ({len(data) // 1024} KiB file): HTTP {status} in {seconds * 1000:.0f} ms, peak RSS +{peak[0] - before:.0f} MiB; {text[:120]}")
stop.set()
try:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/health")
    lines.append(f"- afterwards /api/health: HTTP {conn.getresponse().status}")
except OSError as error:
    lines.append(f"- afterwards /api/health: no answer ({error!r}): the server is down")
print("\n".join(lines))
PY
)
echo "$report"
if $record; then
  {
    echo
    echo "## Hostile input ($(date -u +%Y-%m-%d), $(basename "$(dirname "$binary")") build, $(nproc) cores)"
    echo
    echo "\`bash bench/abuse.sh\`"
    echo
    echo "$report"
  } >> bench/RESULTS.md
fi
