//! eropaf-relay: placeholder.
