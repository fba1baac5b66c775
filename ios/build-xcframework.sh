#!/usr/bin/env bash
# macOS only: builds eropaf-ffi as a static library for iOS devices and the simulator (Apple
# silicon and Intel Macs), generates the Swift bindings, and packs ios/build/EropafFFI.xcframework
# for Package.swift's binaryTarget; the generated Eropaf.swift goes into the wrapper target.
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

# One header directory for both slices: the C header and the module map the Swift code imports.
headers="$build/headers"
rm -rf "$headers" "$build/simulator" "$build/EropafFFI.xcframework"
mkdir -p "$headers" "$build/simulator"
cp "$build/bindings/EropafFFI.h" "$headers/"
cp "$build/bindings/EropafFFI.modulemap" "$headers/module.modulemap"

lipo -create \
    "$target_dir/aarch64-apple-ios-sim/release/liberopaf_ffi.a" \
    "$target_dir/x86_64-apple-ios/release/liberopaf_ffi.a" \
    -output "$build/simulator/liberopaf_ffi.a"

xcodebuild -create-xcframework \
    -library "$target_dir/aarch64-apple-ios/release/liberopaf_ffi.a" -headers "$headers" \
    -library "$build/simulator/liberopaf_ffi.a" -headers "$headers" \
    -output "$build/EropafFFI.xcframework"

mkdir -p "$root/ios/Sources/Eropaf/Generated"
cp "$build/bindings/Eropaf.swift" "$root/ios/Sources/Eropaf/Generated/Eropaf.swift"
echo "Built $build/EropafFFI.xcframework; open ios/Package.swift in Xcode."
