#!/usr/bin/env bash
# Real-browser test of `gar serve` (issue 14), called by .ci/run when Debian's chromium is there:
# a Python venv outside the repo with Playwright from PyPI (no browser download: it drives
# /usr/bin/chromium), `gar serve` (release binary) on a free loopback port with the tiny model,
# Tests/Browser/browser_test.py, screenshots kept in $GAR_BROWSER_ARTIFACTS (default: a temp dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
gar=${GAR_BIN:-.build/release/gar}
chromium=${CHROMIUM:-/usr/bin/chromium}
venv=${GAR_BROWSER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/gar-browser-venv}
out=${GAR_BROWSER_ARTIFACTS:-$(mktemp -d -t gar-browser-XXXXXX)}
mkdir -p "$out"

[ -x "$gar" ] || { echo "browser test: $gar not built (swift build -c release --product gar)" >&2; exit 1; }
[ -x "$chromium" ] || { echo "browser test: $chromium missing (apt-get install chromium)" >&2; exit 1; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import playwright" 2>/dev/null || "$venv/bin/pip" install -q playwright

log="$out/server.log"
"$gar" serve --model Tests/Fixtures/gar-tiny --media-root samples/clips --port 0 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 600); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$log" | head -n 1 || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "browser test: gar serve exited:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { echo "browser test: gar serve did not start" >&2; cat "$log" >&2; exit 1; }
"$venv/bin/python" Tests/Browser/browser_test.py --url "$url" --out "$out" --chromium "$chromium"
echo "browser test: ok; screenshots in $out"
