#!/usr/bin/env bash
# Installs what the test command needs and is missing, on Debian: a C compiler (SQLite is
# bundled, ring builds C), Chromium and npm for the console's browser test, a JDK 17 and
# Maven for the Kotlin bindings' JVM tests, PostgreSQL's server binaries for the relay's
# PostgreSQL tests, rustfmt and clippy. Run by scripts/test.sh; a
# machine that has everything installs nothing.
set -euo pipefail

missing=()
command -v cc >/dev/null || missing+=(build-essential)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
command -v npm >/dev/null || missing+=(nodejs npm)
if ! command -v javac >/dev/null || ! javac -version 2>&1 | grep -qE 'javac (1[7-9]|[2-9][0-9])'; then
    missing+=(openjdk-17-jdk-headless)
fi
command -v mvn >/dev/null || missing+=(maven)
# The relay's PostgreSQL backend is tested against a real server the tests start themselves
# (initdb in a temp directory); they need the server binaries, not a running service.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null \
    || [ -x "${EROPAF_PG_BIN:-/nonexistent}/initdb" ] || missing+=(postgresql)

if [ ${#missing[@]} -gt 0 ]; then
    if ! command -v apt-get >/dev/null; then
        echo "Missing: ${missing[*]}; install them (this script knows Debian's apt-get only)." >&2
        exit 1
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "Missing: ${missing[*]}; run as root or install sudo." >&2; exit 1; }
        sudo=sudo
    fi
    echo "Installing: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
if command -v rustup >/dev/null; then
    rustup component add rustfmt clippy >/dev/null
fi
