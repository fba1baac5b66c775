//! The roster: placeholder until written.
