#!/usr/bin/env bash
# Builds the iOS side's non-UI Swift (the generated bindings, EropafViewModels) on Linux against
# the host-built liberopaf_ffi.so and runs its XCTests on the real library. Debian 12 has no
# Swift, so the compiler runs in a Debian trixie root (debootstrap, `swiftlang` from apt),
# made once and kept in target/swift-trixie; runs as root (with sudo when not).
# Last line: `swift tests: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then
        exec sudo --preserve-env=CARGO_TARGET_DIR,EROPAF_DEBIAN_MIRROR,PATH "$0" "$@"
    fi
    echo "test-swift: debootstrap and chroot need root (or sudo)" >&2
    echo "swift tests: 0 passed, 1 failed"
    exit 1
fi

base="$root/target/swift-trixie"
sysroot="$base/root"
mirror="${EROPAF_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# libc6-dev: swiftlang's Glibc module needs the C headers, which it does not depend on.
# ca-certificates: the core's HTTP client will not even be built without a CA store, plain
# http to a loopback relay included, so the multi-phone tests need one.
packages="swiftlang libc6-dev ca-certificates"
ready="trixie $packages"
cargo_target="${CARGO_TARGET_DIR:-$root/target}"
linux="$root/ios/build/linux"
log="$base/test.log"

# Anything mounted at or below a directory, deepest first (so each unmounts before its parent).
mounts_under() {
    awk -v dir="$1" '$2 == dir || index($2, dir "/") == 1 { print $2 }' /proc/mounts | sort -r
}

unmount_under() {
    local point
    for point in $(mounts_under "$1"); do umount "$point" || umount -l "$point"; done
}

# Never rm -rf a root with the project bound inside it: that would delete the project.
remove_root() {
    unmount_under "$1"
    if [ -n "$(mounts_under "$1")" ]; then
        echo "test-swift: $1 still has mounts; not removing it" >&2
        return 1
    fi
    rm -rf "$1"
}

finished=false
on_exit() {
    local status=$?
    unmount_under "$sysroot"
    unmount_under "$base/root.new"
    if ! $finished; then
        echo "swift tests: 0 passed, 1 failed"
        [ "$status" != 0 ] || status=1
    fi
    exit "$status"
}
trap on_exit EXIT

mkdir -p "$base"
# One run at a time: a second one waits rather than mounting into a root being replaced.
exec 9>"$base/lock"
flock 9
# A run killed without its trap leaves mounts behind; the lock says no run is using them.
unmount_under "$sysroot"

in_root() {
    chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "${@:2}"
}

made=$(cat "$sysroot/.eropaf-ready" 2>/dev/null || true)
if [ "$made" != "$ready" ] && [ "${made%% *}" = trixie ]; then
    # A root made before a package joined the list gets it in place: a new root takes minutes.
    echo "test-swift: adding $packages to $sysroot"
    mount -t proc proc "$sysroot/proc"
    in_root "$sysroot" apt-get update -q
    in_root "$sysroot" apt-get install -y -q --no-install-recommends $packages
    in_root "$sysroot" apt-get clean
    umount "$sysroot/proc"
    echo "$ready" >"$sysroot/.eropaf-ready"
fi

if [ "$(cat "$sysroot/.eropaf-ready" 2>/dev/null)" != "$ready" ]; then
    echo "test-swift: making a Debian trixie root with $packages in $sysroot (once)"
    if ! command -v debootstrap >/dev/null; then
        apt-get update -q
        apt-get install -y -q --no-install-recommends debootstrap
    fi
    new="$base/root.new"
    remove_root "$new"
    debootstrap --variant=minbase trixie "$new" "$mirror"
    mount -t proc proc "$new/proc"
    in_root "$new" apt-get update -q
    in_root "$new" apt-get install -y -q --no-install-recommends $packages
    in_root "$new" apt-get clean
    umount "$new/proc"
    echo "$ready" >"$new/.eropaf-ready"
    remove_root "$sysroot"
    mv "$new" "$sysroot"
fi

# The bindings from the host build (ios/generate-swift.sh builds the workspace), laid out as
# the package's Linux branch expects: the Swift files where build-xcframework.sh puts them on
# macOS, each C header with a module map of its own, and the library in one directory the
# chroot sees. The generated module maps `use "Darwin"`, which Linux does not have.
ios/generate-swift.sh
# Copied only when changed: the bindings are written anew each time, and a new date alone
# would make SwiftPM compile their 9,000 lines again.
put() {
    mkdir -p "$(dirname "$2")"
    cmp -s "$1" "$2" || cp "$1" "$2"
}
for file in Eropaf.swift EropafCore.swift; do
    put "ios/build/bindings/$file" "ios/Sources/Eropaf/Generated/$file"
done
for module in EropafFFI EropafCoreFFI; do
    put "ios/build/bindings/$module.h" "$linux/$module/$module.h"
    printf 'module %s {\n    header "%s.h"\n    link "eropaf_ffi"\n    export *\n}\n' \
        "$module" "$module" >"$linux/$module/module.modulemap.new"
    put "$linux/$module/module.modulemap.new" "$linux/$module/module.modulemap"
    rm "$linux/$module/module.modulemap.new"
done
put "$cargo_target/debug/liberopaf_ffi.so" "$linux/lib/liberopaf_ffi.so"
# The relay the multi-phone tests start (`eropaf relay serve`), where the chroot sees it.
put "$cargo_target/debug/eropaf" "$linux/bin/eropaf"

mount -t proc proc "$sysroot/proc"
mkdir -p "$sysroot/src"
mount --bind "$root" "$sysroot/src"
echo "test-swift: $(in_root "$sysroot" swift --version 2>/dev/null | head -1)"

lib=/src/ios/build/linux/lib
swift_args=(--package-path /src/ios --scratch-path /src/target/swift-trixie/build
    -Xlinker -L"$lib" -Xlinker -rpath -Xlinker "$lib")
if ! in_root "$sysroot" swift build --build-tests "${swift_args[@]}"; then
    echo "test-swift: the Swift package did not build" >&2
    exit 1
fi

status=0
in_root "$sysroot" EROPAF_BIN=/src/ios/build/linux/bin/eropaf \
    swift test --skip-build "${swift_args[@]}" 2>&1 | tee "$log" || status=$?
# Counted per test case: one that started and never ended crashed the run, and failed.
started=$(grep -cE "^Test Case '.*' started" "$log" || true)
passed=$(grep -cE "^Test Case '.*' passed" "$log" || true)
failed=$(grep -cE "^Test Case '.*' failed" "$log" || true)
failed=$((started - passed > failed ? started - passed : failed))
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
    failed=1
fi
finished=true
echo "swift tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
