//! The team: its signed roster of members and devices, epoch keys and case keys.

pub mod epoch;
pub mod roster;
