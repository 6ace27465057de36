//! What the REST and WebSocket APIs both need before they serve a client:
//! its signature checked against the key store, and Kalshi-style error
//! responses.

// A rejection is the response itself, handed straight back by the handler.
#![allow(clippy::result_large_err)]

use crate::exchange::UserId;
use crate::render;
use crate::state::{Shared, now_ms};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// A Kalshi-style error response.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(render::error(code, message))).into_response()
}

/// Verifies Kalshi's three signature headers; 401 otherwise.
pub fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<UserId, Response> {
    use crate::auth::{KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    shared
        .keys
        .verify(
            h(KEY_HEADER),
            h(TIMESTAMP_HEADER),
            h(SIGNATURE_HEADER),
            method.as_str(),
            path,
            now_ms(),
            shared.config.auth_window_ms,
        )
        .map_err(|e| error(StatusCode::UNAUTHORIZED, e.code(), &e.message()))
}
