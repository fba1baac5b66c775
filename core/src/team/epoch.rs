//! Epochs: placeholder until written.
