//! Order groups over REST: create, read, reset and trigger
//! (`/portfolio/order_groups`), on [`crate::exchange::Exchange`]'s groups.

use crate::access::{App, body, error, gate, ok, reject};
use crate::faults;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use pt_engine::model::Qty;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct CreateGroup {
    contracts_limit: Option<i64>,
    contracts_limit_fp: Option<String>,
}

/// `CreateOrderGroup`: a contracts limit over a rolling 15 s window.
pub(crate) async fn create(State(s): App, h: HeaderMap, m: Method, u: Uri, b: Bytes) -> Response {
    let user = match gate(&s, &h, &m, &u, true, Some(faults::cost(false, 1))).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let req: CreateGroup = match body(&b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let limit = match (&req.contracts_limit, &req.contracts_limit_fp) {
        (Some(n), None) => Qty::from_units(*n).ok_or(()),
        (None, Some(fp)) => Qty::parse(fp).map_err(|_| ()),
        (Some(n), Some(fp)) if Qty::from_units(*n).is_some_and(|q| Qty::parse(fp) == Ok(q)) => {
            Qty::parse(fp).map_err(|_| ())
        }
        _ => Err(()),
    };
    let Ok(limit) = limit else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
            "contracts_limit: expected a whole number of contracts (or contracts_limit_fp, matching)",
        );
    };
    match s.with_exchange(|ex, _, _| ex.create_group(user, limit)) {
        Ok(id) => ok(StatusCode::CREATED, json!({"order_group_id": id})),
        Err(r) => reject(&r),
    }
}

pub(crate) async fn get_one(
    State(s): App,
    h: HeaderMap,
    m: Method,
    u: Uri,
    Path(id): Path<String>,
) -> Response {
    let user = match gate(&s, &h, &m, &u, true, None).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let found = s
        .read(|ex| {
            ex.group(user, &id).map(|g| {
                json!({
                    "is_auto_cancel_enabled": g.triggered,
                    "orders": g.orders,
                    "contracts_limit": g.limit.raw() / Qty::ONE.raw(),
                    "contracts_limit_fp": crate::wire::count(g.limit),
                })
            })
        })
        .1;
    match found {
        Some(v) => ok(StatusCode::OK, v),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("order group {id:?} does not exist"),
        ),
    }
}

pub(crate) async fn reset(
    State(s): App,
    h: HeaderMap,
    m: Method,
    u: Uri,
    Path(id): Path<String>,
) -> Response {
    let user = match gate(&s, &h, &m, &u, true, Some(faults::cost(false, 1))).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match s.with_exchange(|ex, _, _| ex.reset_group(user, &id)) {
        Ok(()) => ok(StatusCode::OK, json!({})),
        Err(r) => reject(&r),
    }
}

pub(crate) async fn trigger(
    State(s): App,
    h: HeaderMap,
    m: Method,
    u: Uri,
    Path(id): Path<String>,
) -> Response {
    let user = match gate(&s, &h, &m, &u, true, Some(faults::cost(false, 1))).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match s.with_exchange(|ex, now, ev| ex.trigger_group(user, &id, now, ev)) {
        Ok(()) => ok(StatusCode::OK, json!({})),
        Err(r) => reject(&r),
    }
}
