//! What the REST and WebSocket APIs both need before they serve a client:
//! its signature checked against the key store, the gate every request
//! passes (injected faults, the signature, the token bucket), and
//! Kalshi-style bodies and error responses.

// A rejection is the response itself, handed straight back by the handler.
#![allow(clippy::result_large_err)]

use crate::exchange::{Reject, UserId};
use crate::faults;
use crate::render;
use crate::state::{Shared, lock, now_ms};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// The URL prefix of the REST API.
pub const PREFIX: &str = "/trade-api/v2";

/// The state every handler takes.
pub(crate) type App = State<Arc<Shared>>;

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

pub(crate) fn reject(r: &Reject) -> Response {
    error(
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
        r.code,
        &r.message,
    )
}

pub(crate) fn ok(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// What every request passes first: injected delay and 5xx bursts, then
/// (for private requests) the signature, then the token bucket.
pub(crate) async fn gate(
    shared: &Shared,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    private: bool,
    write: Option<u64>,
) -> Result<UserId, Response> {
    let faults = shared.faults();
    if faults.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.delay_ms)).await;
    }
    if faults.error_burst > 0 {
        let mut f = lock(&shared.faults);
        if f.error_burst > 0 {
            f.error_burst -= 1;
            return Err(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_server_error",
                "internal server error (injected fault)",
            ));
        }
    }
    let user = if private {
        // Nested routes see the path without the API prefix; the client
        // signed the full path.
        let path = format!("{PREFIX}{}", uri.path());
        authenticate(shared, headers, method, &path)?
    } else {
        0
    };
    let (is_write, cost) = match write {
        Some(cost) => (true, cost),
        None => (false, faults::cost(false, 1)),
    };
    if !lock(&shared.limiter).admit(user, is_write, cost, now_ms()) {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"error": "too many requests"})),
        )
            .into_response());
    }
    Ok(user)
}

/// Parses a JSON body into `T`; a 400 naming what is wrong otherwise.
pub(crate) fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
            &format!("request body: {e}"),
        )
    })
}
