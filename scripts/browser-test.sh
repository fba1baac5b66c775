#!/usr/bin/env bash
# The browser test of the supervisor's console: the demo's data, headless Chromium (Debian's
# `chromium`), driven by playwright-core installed here with npm into target/ (gitignored) at
# a pinned version. Screenshots go to target/artefacts/. Ends with
# "browser: N passed, M failed", which scripts/test.sh counts.
set -euo pipefail
cd "$(dirname "$0")/.."

PLAYWRIGHT_VERSION=1.65.1
root=$PWD
work=$root/target/browser-test
artefacts=$root/target/artefacts
mkdir -p "$work" "$artefacts"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ] || ! command -v npm >/dev/null; then
    echo "Chromium of npm ontbreekt (apt-get install chromium npm); de browsertest kan niet draaien." >&2
    echo "browser: 0 passed, 1 failed"
    exit 1
fi

if [ ! -f "$work/node_modules/playwright-core/package.json" ] ||
    ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$work/node_modules/playwright-core/package.json"; then
    (cd "$work" && npm install --no-audit --no-fund --loglevel=error --prefix "$work" "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null)
fi

cargo build -p eropaf-cli --locked --quiet
# Where cargo put it (target/, or CARGO_TARGET_DIR however it was set).
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
eropaf=$target_dir/debug/eropaf

# The demo's log holds the console's secret link: readable by this user only.
umask 077
demo=$(mktemp -d)
log=$demo.log
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$eropaf" demo --dir "$demo/data" --listen "127.0.0.1:$port" >"$log" 2>&1 &
demo_pid=$!
cleanup() {
    kill "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
    rm -rf "$demo" "$log"
}
trap cleanup EXIT

for _ in $(seq 1 240); do
    grep -q "Console voor leidinggevenden" "$log" && break
    if ! kill -0 "$demo_pid" 2>/dev/null; then
        cat "$log" >&2
        echo "browser: 0 passed, 1 failed"
        exit 1
    fi
    sleep 0.5
done

# The console prints its link with the secret token of this start; only that link opens it.
link=$(sed -n 's/^Console voor leidinggevenden: \(http[^ ]*\).*/\1/p' "$log" | head -n 1)
case "$link" in
    "http://127.0.0.1:$port/?token="?*) ;;
    *)
        cat "$log" >&2
        echo "De console noemde geen link met toegangscode." >&2
        echo "browser: 0 passed, 1 failed"
        exit 1
        ;;
esac

PLAYWRIGHT_DIR=$work/node_modules/playwright-core \
CONSOLE_URL=http://127.0.0.1:$port \
CONSOLE_LINK=$link \
DEMO_DIR=$demo/data \
EROPAF=$eropaf \
CHROMIUM=$chromium \
ARTEFACTS=$artefacts \
    node tests/browser/console.mjs
