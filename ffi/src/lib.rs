//! eropaf-ffi: the core as the phone apps see it, through UniFFI (proc macros, no UDL). One
//! `Eropaf` object per device store, records and enums shaped for display, one error enum;
//! every rule stays in eropaf-core, tested once for Android and iOS.

mod auto_sync;
mod boundary;
mod eropaf;
mod error;
mod key_store;
mod records;
mod session;

pub use auto_sync::{SyncState, SyncStateObserver, SyncTiming};
pub use eropaf::{
    measure_native_calls, ChangeObserver, DownloadListener, Eropaf, MeasuredCall, SyncListener,
};
pub use error::{EropafError, NETWORK_RETRY_AFTER_SECS};
pub use key_store::{KeyStore, Unlock};
pub use records::*;

uniffi::setup_scaffolding!();
