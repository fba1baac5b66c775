#!/usr/bin/env bash
# macOS only: builds eropaf-ffi as a static library for iOS devices and the simulator (Apple
# silicon and Intel Macs), generates the Swift bindings, and packs ios/build/EropafFFI.xcframework
# for Package.swift's binaryTarget; the generated Eropaf.swift and EropafCore.swift go into
# the wrapper target.
# Needs Xcode and: rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ "$(uname -s)" != Darwin ]; then
    echo "build-xcframework.sh needs macOS with Xcode; on other systems run ios/generate-swift.sh" >&2
    exit 1
fi
target_dir="${CARGO_TARGET_DIR:-$root/target}"
build="$root/ios/build"
export IPHONEOS_DEPLOYMENT_TARGET=16.0

for target in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
    cargo build --locked --release -p eropaf-ffi --target "$target"
done

EROPAF_PROFILE=release ios/generate-swift.sh "$build/bindings"

# One header directory for both slices: the C headers (eropaf-ffi's and eropaf-core's, whose
# records and enums derive their bindings in the core) and one module map declaring both C
# modules the Swift code imports.
headers="$build/headers"
rm -rf "$headers" "$build/simulator" "$build/EropafFFI.xcframework"
mkdir -p "$headers" "$build/simulator"
cp "$build/bindings/EropafFFI.h" "$build/bindings/EropafCoreFFI.h" "$headers/"
for map in EropafFFI EropafCoreFFI; do
    cat "$build/bindings/$map.modulemap"
    echo
done >"$headers/module.modulemap"

lipo -create \
    "$target_dir/aarch64-apple-ios-sim/release/liberopaf_ffi.a" \
    "$target_dir/x86_64-apple-ios/release/liberopaf_ffi.a" \
    -output "$build/simulator/liberopaf_ffi.a"

xcodebuild -create-xcframework \
    -library "$target_dir/aarch64-apple-ios/release/liberopaf_ffi.a" -headers "$headers" \
    -library "$build/simulator/liberopaf_ffi.a" -headers "$headers" \
    -output "$build/EropafFFI.xcframework"

# Both generated Swift files go into the one Swift module apps import (`import Eropaf`).
mkdir -p "$root/ios/Sources/Eropaf/Generated"
cp "$build/bindings/Eropaf.swift" "$build/bindings/EropafCore.swift" \
    "$root/ios/Sources/Eropaf/Generated/"
echo "Built $build/EropafFFI.xcframework; open ios/Package.swift in Xcode."
