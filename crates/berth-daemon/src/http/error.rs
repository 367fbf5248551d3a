//! The one place where an error's kind becomes an HTTP status.

use axum::Json;
use axum::body::Body;
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use berth_api::ErrorResponse;
use berth_core::ErrorKind;

use crate::Error;

/// The status Docker uses for an error kind.
pub fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::NotModified => StatusCode::NOT_MODIFIED,
        ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `{"message": ...}` with the error's status.
pub fn error_response(e: &Error) -> Response<Body> {
    if e.kind == ErrorKind::Internal {
        tracing::error!(error = %e.message, "request failed");
    }
    (
        status(e.kind),
        Json(ErrorResponse {
            message: e.message.clone(),
        }),
    )
        .into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        error_response(&self)
    }
}
