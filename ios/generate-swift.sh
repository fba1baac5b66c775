#!/usr/bin/env bash
# Generates the Swift bindings of eropaf-ffi (Eropaf.swift, the EropafFFI C header and its
# module map; EropafCore.swift and EropafCoreFFI for the records and enums eropaf-core derives
# itself) with the workspace's own uniffi-bindgen, from a host build of the library. Needs no
# Swift compiler, so the test command runs it on Linux too; build-xcframework.sh uses it on
# macOS. Usage: ios/generate-swift.sh [OUT_DIR] (default ios/build/bindings).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="${1:-$root/ios/build/bindings}"
profile="${EROPAF_PROFILE:-debug}"

# The whole workspace, as android/test-jvm.sh builds it: one set of unified features, so
# neither script rebuilds what the other built.
if [ "$profile" = release ]; then
    cargo build --locked --release -p eropaf-ffi
fi
cargo build --locked --workspace
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$(uname -s)" in
    Darwin) library="$target_dir/$profile/liberopaf_ffi.dylib" ;;
    *) library="$target_dir/$profile/liberopaf_ffi.so" ;;
esac

rm -rf "$out"
mkdir -p "$out"
"$target_dir/debug/uniffi-bindgen" generate --library "$library" --language swift --out-dir "$out"
# eropaf-ffi's bindings, and eropaf-core's for the records and enums it derives itself.
for file in Eropaf.swift EropafFFI.h EropafFFI.modulemap \
    EropafCore.swift EropafCoreFFI.h EropafCoreFFI.modulemap; do
    if [ ! -s "$out/$file" ]; then
        echo "generate-swift: $file was not generated" >&2
        exit 1
    fi
done
echo "Swift bindings: $(cat "$out/Eropaf.swift" "$out/EropafCore.swift" | wc -l) lines of Swift in $out"
