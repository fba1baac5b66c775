//! The relay's one error type: each case maps to an HTTP status and a JSON body
//! `{"error": sentence, "code": machine-readable code}` (plus `"index"` for the envelope of a
//! batch that was refused). Every error leaves storage unchanged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use eropaf_protocol::api::ErrorCode;

pub type Result<T, E = RelayError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// 400: malformed input.
    #[error("{message}")]
    BadRequest { code: ErrorCode, message: String },
    /// 401: who sent the request could not be established.
    #[error("{message}")]
    Unauthorized { code: ErrorCode, message: String },
    /// 403: the sender is known but may not do this.
    #[error("{message}")]
    Forbidden { code: ErrorCode, message: String },
    /// 404
    #[error("{message}")]
    NotFound { code: ErrorCode, message: String },
    /// 409: conflicts with what is stored (an existing team, a replayed request, a roster
    /// that moved on).
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// 410: an invitation that was used or has expired.
    #[error("{message}")]
    Gone { code: ErrorCode, message: String },
    /// 413: over a size or batch limit.
    #[error("{message}")]
    TooLarge { code: ErrorCode, message: String },
    /// One envelope of a batch was refused; the status is the inner error's.
    #[error("envelope {index}: {source}")]
    Envelope { index: usize, source: Box<RelayError> },
    /// 500: the relay's storage failed. The detail is for the relay's log, not the client.
    #[error("storage error: {0}")]
    Storage(String),
    /// The listener failed (binding, accepting); never sent to a client.
    #[error("server error: {0}")]
    Server(String),
}

macro_rules! ctor {
    ($name:ident, $variant:ident) => {
        pub fn $name(code: ErrorCode, message: impl Into<String>) -> RelayError {
            RelayError::$variant { code, message: message.into() }
        }
    };
}

impl RelayError {
    ctor!(bad_request, BadRequest);
    ctor!(unauthorized, Unauthorized);
    ctor!(forbidden, Forbidden);
    ctor!(not_found, NotFound);
    ctor!(conflict, Conflict);
    ctor!(gone, Gone);
    ctor!(too_large, TooLarge);

    pub fn at(self, index: usize) -> RelayError {
        RelayError::Envelope { index, source: Box::new(self) }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            RelayError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            RelayError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            RelayError::Forbidden { .. } => StatusCode::FORBIDDEN,
            RelayError::NotFound { .. } => StatusCode::NOT_FOUND,
            RelayError::Conflict { .. } => StatusCode::CONFLICT,
            RelayError::Gone { .. } => StatusCode::GONE,
            RelayError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            RelayError::Envelope { source, .. } => source.status(),
            RelayError::Storage(_) | RelayError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            RelayError::BadRequest { code, .. }
            | RelayError::Unauthorized { code, .. }
            | RelayError::Forbidden { code, .. }
            | RelayError::NotFound { code, .. }
            | RelayError::Conflict { code, .. }
            | RelayError::Gone { code, .. }
            | RelayError::TooLarge { code, .. } => *code,
            RelayError::Envelope { source, .. } => source.code(),
            RelayError::Storage(_) => ErrorCode::Storage,
            RelayError::Server(_) => ErrorCode::Server,
        }
    }

    /// A storage error from a backend (SQLite now, PostgreSQL later).
    pub fn storage(detail: impl std::fmt::Display) -> RelayError {
        RelayError::Storage(detail.to_string())
    }
}

impl From<rusqlite::Error> for RelayError {
    fn from(e: rusqlite::Error) -> Self {
        RelayError::Storage(e.to_string())
    }
}

impl From<tokio_postgres::Error> for RelayError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The database's own message names the SQL state and the object, never a value.
        RelayError::Storage(match e.as_db_error() {
            Some(db) => format!("PostgreSQL {}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        })
    }
}

impl From<deadpool_postgres::PoolError> for RelayError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        RelayError::Storage(format!("no connection to PostgreSQL: {e}"))
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let message = match &self {
            RelayError::Storage(detail) => {
                crate::log::event("storage_error", &[("detail", detail)]);
                "The relay could not reach its storage; nothing was changed. Try again later."
                    .to_string()
            }
            other => other.to_string(),
        };
        let mut body = serde_json::json!({ "error": message, "code": self.code().as_str() });
        if let RelayError::Envelope { index, .. } = &self {
            body["index"] = serde_json::json!(index);
        }
        (self.status(), Json(body)).into_response()
    }
}
