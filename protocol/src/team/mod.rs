//! The team: its signed roster of members and devices, enrolment, epoch keys and case keys.

pub mod epoch;
pub mod erasure;
pub mod grant;
pub mod invitation;
pub mod names;
pub mod request;
pub mod roster;
pub mod wipe;
