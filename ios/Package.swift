// swift-tools-version:5.9
// Eropaf for iOS: the Rust core as an xcframework (built by build-xcframework.sh), the
// generated Swift bindings with the Keychain key store (Eropaf), the screens' state and actions
// in plain Swift (EropafViewModels) and the SwiftUI screens (EropafUI) that an app target shows.
import PackageDescription

#if os(Linux)
// ios/test-swift.sh builds the bindings and view models against the host's liberopaf_ffi.so,
// with the generated C headers as two module maps it writes into build/linux. Nothing of
// Apple's (the Keychain, SwiftUI) exists there, so the Keychain store and the screens stay out.
let ffi: [Target] = [
    .systemLibrary(name: "EropafFFI", path: "build/linux/EropafFFI"),
    .systemLibrary(name: "EropafCoreFFI", path: "build/linux/EropafCoreFFI"),
]
let bindings: Target = .target(
    name: "Eropaf", dependencies: ["EropafFFI", "EropafCoreFFI"], path: "Sources/Eropaf",
    exclude: ["KeychainKeyStore.swift"]
)
let screens: [Target] = []
#else
// One xcframework holds both C modules (EropafFFI and EropafCoreFFI).
let ffi: [Target] = [.binaryTarget(name: "EropafFFI", path: "build/EropafFFI.xcframework")]
let bindings: Target = .target(name: "Eropaf", dependencies: ["EropafFFI"], path: "Sources/Eropaf")
let screens: [Target] = [
    .target(name: "EropafUI", dependencies: ["Eropaf", "EropafViewModels"], path: "Sources/EropafUI"),
]
#endif

let package = Package(
    name: "Eropaf",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "Eropaf", targets: ["Eropaf"]),
        .library(name: "EropafViewModels", targets: ["EropafViewModels"]),
    ] + screens.map { .library(name: $0.name, targets: [$0.name]) },
    targets: ffi + [
        bindings,
        .target(name: "EropafViewModels", dependencies: ["Eropaf"], path: "Sources/EropafViewModels"),
        .testTarget(
            name: "EropafViewModelsTests", dependencies: ["Eropaf", "EropafViewModels"],
            path: "Tests/EropafViewModelsTests"
        ),
    ] + screens
)
