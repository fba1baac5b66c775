//! What the law asks a case to keep and give: the access log (NEN 7513), the resident's
//! inzage (AVG art. 15), retention (which closed cases are due for erasure), and the record
//! of each erasure (kept, by case id only, in the team document).

pub mod access_log;
pub mod inzage;
pub mod retention;

pub use crate::doc::Erasure;
