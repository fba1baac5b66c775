//! `uniffi-bindgen` at exactly the UniFFI version eropaf-ffi is built with: bindings made by
//! a separately installed bindgen of another version fail at load time with a checksum error.
//! Kept out of eropaf-ffi itself so the phone libraries do not carry the generator.

fn main() {
    uniffi::uniffi_bindgen_main();
}
