#!/usr/bin/env bash
# Builds eropaf-ffi for each Android ABI with cargo-ndk into app/src/main/jniLibs, and
# generates the Kotlin bindings into app/build/generated/uniffi with the workspace's own
# uniffi-bindgen. Needs the Android NDK (ANDROID_NDK_HOME), `cargo install cargo-ndk`, and
# rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir="${CARGO_TARGET_DIR:-$root/target}"

cargo ndk --platform 26 \
    -t arm64-v8a -t armeabi-v7a -t x86_64 \
    -o "$root/android/app/src/main/jniLibs" \
    build --locked --release -p eropaf-ffi

cargo build --locked -p eropaf-uniffi-bindgen
out="$root/android/app/build/generated/uniffi"
rm -rf "$out"
"$target_dir/debug/uniffi-bindgen" generate \
    --library "$target_dir/aarch64-linux-android/release/liberopaf_ffi.so" \
    --language kotlin --out-dir "$out"
echo "Native libraries in android/app/src/main/jniLibs, bindings in $out"
