// swift-tools-version:5.9
// Eropaf for iOS: the Rust core as an xcframework (built by build-xcframework.sh), the
// generated Swift bindings with the Keychain key store (Eropaf), and the SwiftUI screens
// (EropafUI) that an app target shows.
import PackageDescription

let package = Package(
    name: "Eropaf",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "Eropaf", targets: ["Eropaf"]),
        .library(name: "EropafUI", targets: ["EropafUI"]),
    ],
    targets: [
        .binaryTarget(name: "EropafFFI", path: "build/EropafFFI.xcframework"),
        .target(name: "Eropaf", dependencies: ["EropafFFI"], path: "Sources/Eropaf"),
        .target(name: "EropafUI", dependencies: ["Eropaf"], path: "Sources/EropafUI"),
    ]
)
