//! What the law asks a case to keep and give: the access log (NEN 7513), the resident's
//! inzage (AVG art. 15), and retention (which closed cases are due for erasure).

pub mod access_log;
pub mod inzage;
pub mod retention;
