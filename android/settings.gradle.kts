// The Android shell of Eropaf: Compose screens over the Rust core (eropaf-ffi through UniFFI).
// Build the native library and the Kotlin bindings first: ./build-rust.sh
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "eropaf-android"
include(":app")
