//! Envelopes: placeholder until written.
