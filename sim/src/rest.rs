//! The REST API (Trade API v2 under `/trade-api/v2`), the WebSocket path
//! and the simulator's own admin endpoints under `/sim/admin`.

// Handlers return early with a ready `Response`; boxing it would only add an
// allocation to every error path of a slow-path server.
#![allow(clippy::result_large_err)]

use crate::access::{App, body, error, gate, ok, reject};
use crate::exchange::{
    BookSide, Exchange, NewOrder, Order, Outcome, Reject, SelfTradePrevention, TimeInForce, UserId,
};
use crate::faults::{self, Faults};
use crate::render;
use crate::rest_groups as groups;
use crate::state::{Shared, lock, now_ms};
use crate::wire::{FieldError, parse_count, parse_price};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use rand::Rng as _;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::access::PREFIX;
/// The path of the WebSocket API.
pub const WS_PATH: &str = "/trade-api/ws/v2";
/// Most orders one batch may hold.
pub const MAX_BATCH: usize = 20;

/// The REST and admin routes; the server adds the WebSocket route and the
/// state.
pub fn routes() -> Router<Arc<Shared>> {
    let api = Router::new()
        .route("/exchange/status", get(exchange_status))
        .route("/exchange/user_data_timestamp", get(user_data_timestamp))
        .route("/markets", get(markets))
        .route("/markets/{ticker}", get(market))
        .route("/markets/{ticker}/orderbook", get(orderbook))
        .route("/portfolio/balance", get(balance))
        .route("/portfolio/positions", get(positions))
        .route("/portfolio/orders", get(orders))
        .route("/portfolio/orders/queue_positions", get(queue_positions))
        .route("/portfolio/orders/{order_id}", get(one_order))
        .route(
            "/portfolio/orders/{order_id}/queue_position",
            get(queue_position),
        )
        .route("/portfolio/fills", get(fills))
        .route("/portfolio/events/orders", post(create_order))
        .route(
            "/portfolio/events/orders/batched",
            post(batch_create).delete(batch_cancel),
        )
        .route(
            "/portfolio/events/orders/{order_id}",
            axum::routing::delete(cancel_order),
        )
        .route(
            "/portfolio/events/orders/{order_id}/amend",
            post(amend_order),
        )
        .route(
            "/portfolio/events/orders/{order_id}/decrease",
            post(decrease_order),
        )
        .route("/portfolio/order_groups/create", post(groups::create))
        .route("/portfolio/order_groups/{group_id}", get(groups::get_one))
        .route(
            "/portfolio/order_groups/{group_id}/reset",
            axum::routing::put(groups::reset),
        )
        .route(
            "/portfolio/order_groups/{group_id}/trigger",
            axum::routing::put(groups::trigger),
        );
    let admin = Router::new()
        .route("/faults", get(get_faults).post(set_faults))
        .route("/drop_connections", post(drop_connections))
        .route("/pause", post(pause))
        .route("/settle", post(settle))
        .route("/probe", get(probe));
    Router::new()
        .nest(PREFIX, api)
        .nest("/sim/admin", admin)
        .fallback(not_found)
}

fn bad_request(e: &FieldError) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_parameters", &e.0)
}

async fn not_found(uri: Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("no route for {}", uri.path()),
    )
}

/// `GetOrderQueuePosition`: contracts ahead of a resting order.
async fn queue_position(
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
    match s.read(|ex| ex.queue_position(user, &id)).1 {
        Some(q) => ok(
            StatusCode::OK,
            json!({"queue_position_fp": crate::wire::count(q)}),
        ),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("order {id:?} is not a resting order of this account"),
        ),
    }
}

/// `GetOrderQueuePositions`: every resting order's, optionally for some
/// markets (`market_tickers=A,B`).
async fn queue_positions(
    State(s): App,
    h: HeaderMap,
    m: Method,
    u: Uri,
    q: Query<Page>,
) -> Response {
    let user = match gate(&s, &h, &m, &u, true, None).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let wanted: Option<Vec<String>> = q
        .market_tickers
        .as_deref()
        .map(|t| t.split(',').map(str::to_owned).collect());
    let list = s
        .read(|ex| {
            ex.orders(user)
                .into_iter()
                .filter(|o| wanted.as_ref().is_none_or(|w| w.contains(&o.ticker)))
                .filter_map(|o| {
                    ex.queue_position(user, &o.order_id).map(|qp| {
                        json!({
                            "order_id": o.order_id,
                            "market_ticker": o.ticker,
                            "queue_position_fp": crate::wire::count(qp),
                        })
                    })
                })
                .collect::<Vec<_>>()
        })
        .1;
    ok(StatusCode::OK, json!({"queue_positions": list}))
}

/// `GetUserDataTimestamp`: as of when the account reads' data is.
async fn user_data_timestamp(State(s): App, h: HeaderMap, m: Method, u: Uri) -> Response {
    if let Err(r) = gate(&s, &h, &m, &u, true, None).await {
        return r;
    }
    let (as_of, ()) = s.read_account(|_| ());
    ok(
        StatusCode::OK,
        json!({"as_of_time": crate::wire::rfc3339(as_of)}),
    )
}

async fn exchange_status(State(s): App, h: HeaderMap, m: Method, u: Uri) -> Response {
    if let Err(r) = gate(&s, &h, &m, &u, false, None).await {
        return r;
    }
    let paused = s.read(|ex| ex.paused()).1;
    ok(
        StatusCode::OK,
        json!({"exchange_active": true, "trading_active": !paused}),
    )
}

#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<usize>,
    cursor: Option<String>,
    ticker: Option<String>,
    tickers: Option<String>,
    market_tickers: Option<String>,
    event_ticker: Option<String>,
    status: Option<String>,
    order_id: Option<String>,
    depth: Option<usize>,
}

/// Pages a list: `cursor` is the offset of the next page, empty at the end.
fn page<T>(items: Vec<T>, q: &Page, max: usize) -> Result<(Vec<T>, String), Response> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > max {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
            &format!("limit: {limit} is out of range; expected 1 to {max}"),
        ));
    }
    let start = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse::<usize>().map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "invalid_parameters",
                &format!("cursor: {c:?} is not a cursor this server issued"),
            )
        })?,
    };
    let total = items.len();
    let end = (start + limit).min(total);
    let cursor = if end < total {
        end.to_string()
    } else {
        String::new()
    };
    Ok((items.into_iter().skip(start).take(limit).collect(), cursor))
}

async fn markets(State(s): App, h: HeaderMap, m: Method, u: Uri, q: Query<Page>) -> Response {
    if let Err(r) = gate(&s, &h, &m, &u, false, None).await {
        return r;
    }
    let now = now_ms();
    let wanted: Option<Vec<&str>> = q.tickers.as_deref().map(|t| t.split(',').collect());
    let list = s
        .read(|ex| {
            ex.markets()
                .filter(|(spec, _)| {
                    wanted
                        .as_ref()
                        .is_none_or(|w| w.contains(&spec.ticker.as_str()))
                })
                .filter(|(spec, _)| {
                    q.event_ticker
                        .as_ref()
                        .is_none_or(|e| *e == spec.event_ticker)
                })
                .map(|(spec, stats)| render::market(spec, &stats, now))
                .filter(|v| q.status.as_deref().is_none_or(|st| v["status"] == st))
                .collect::<Vec<_>>()
        })
        .1;
    match page(list, &q, 1000) {
        Ok((markets, cursor)) => ok(
            StatusCode::OK,
            json!({"markets": markets, "cursor": cursor}),
        ),
        Err(r) => r,
    }
}

fn market_not_found(ticker: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "market_not_found",
        &format!("ticker: no market {ticker:?}"),
    )
}

async fn market(State(s): App, h: HeaderMap, m: Method, u: Uri, Path(t): Path<String>) -> Response {
    if let Err(r) = gate(&s, &h, &m, &u, false, None).await {
        return r;
    }
    let now = now_ms();
    match s
        .read(|ex| {
            ex.market(&t)
                .map(|(spec, st)| render::market(spec, &st, now))
        })
        .1
    {
        Some(v) => ok(StatusCode::OK, json!({"market": v})),
        None => market_not_found(&t),
    }
}

async fn orderbook(
    State(s): App,
    h: HeaderMap,
    m: Method,
    u: Uri,
    Path(t): Path<String>,
    q: Query<Page>,
) -> Response {
    if let Err(r) = gate(&s, &h, &m, &u, false, None).await {
        return r;
    }
    let depth = q.depth.unwrap_or(0);
    if depth > 100 {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
            &format!("depth: {depth} is out of range; expected 0 to 100"),
        );
    }
    match s.read(|ex| ex.book(&t, depth)).1 {
        Some(book) => ok(StatusCode::OK, render::orderbook(&book)),
        None => market_not_found(&t),
    }
}

async fn balance(State(s): App, h: HeaderMap, m: Method, u: Uri) -> Response {
    let user = match gate(&s, &h, &m, &u, true, None).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (bal, value) = s
        .read_account(|ex| (ex.balance(user), portfolio_value(ex, user)))
        .1;
    ok(
        StatusCode::OK,
        json!({
            "balance": render_cents(bal),
            "balance_dollars": crate::wire::dollars(bal),
            "portfolio_value": render_cents(value),
            "updated_ts": now_ms() / 1000,
            "balance_breakdown": [{"exchange_index": 0, "balance": crate::wire::dollars(bal)}],
        }),
    )
}

fn render_cents(raw: i64) -> i64 {
    crate::wire::cents(raw)
}

/// Marks each position at the midpoint of its market (or its last price).
fn portfolio_value(ex: &Exchange, user: UserId) -> i64 {
    ex.positions(user)
        .iter()
        .map(|(ticker, p)| {
            let Some((_, st)) = ex.market(ticker) else {
                return 0;
            };
            let mark = match (&st.best_bid, &st.best_ask) {
                (Some(b), Some(a)) => (b.price.raw() + a.price.raw()) / 2,
                _ => st.last_price.map_or(50_000_000, |p| p.raw()),
            };
            let per = if p.position.raw() >= 0 {
                mark
            } else {
                100_000_000 - mark
            };
            (i128::from(p.position.raw().abs()) * i128::from(per) / 100_000_000) as i64
        })
        .sum()
}

async fn positions(State(s): App, h: HeaderMap, m: Method, u: Uri, q: Query<Page>) -> Response {
    let user = match gate(&s, &h, &m, &u, true, None).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let list = s
        .read_account(|ex| {
            ex.positions(user)
                .into_iter()
                .filter(|(t, _)| q.ticker.as_deref().is_none_or(|w| w == *t))
                .map(|(t, p)| render::position(t, p))
                .collect::<Vec<_>>()
        })
        .1;
    match page(list, &q, 1000) {
        Ok((items, cursor)) => ok(
            StatusCode::OK,
            json!({"market_positions": items, "event_positions": [], "cursor": cursor}),
        ),
        Err(r) => r,
    }
}

async fn orders(State(s): App, h: HeaderMap, m: Method, u: Uri, q: Query<Page>) -> Response {
    let user = match gate(&s, &h, &m, &u, true, None).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Some(st) = q.status.as_deref()
        && !["resting", "canceled", "executed"].contains(&st)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
            &format!(
                "status: {st:?} is not an order status; expected resting, canceled or executed"
            ),
        );
    }
    let list = s
        .read_account(|ex| {
            ex.orders(user)
                .into_iter()
                .filter(|o| q.ticker.as_deref().is_none_or(|t| t == o.ticker))
                .map(render::order)
                .filter(|v| q.status.as_deref().is_none_or(|st| v["status"] == st))
                .collect::<Vec<_>>()
        })
        .1;
    match page(list, &q, 1000) {
        Ok((items, cursor)) => ok(StatusCode::OK, json!({"orders": items, "cursor": cursor})),
        Err(r) => r,
    }
}

fn order_not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("order_id: no order {id:?}"),
    )
}

async fn one_order(
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
    match s
        .read_account(|ex| ex.order(user, &id).map(render::order))
        .1
    {
        Some(o) => ok(StatusCode::OK, json!({"order": o})),
        None => order_not_found(&id),
    }
}

async fn fills(State(s): App, h: HeaderMap, m: Method, u: Uri, q: Query<Page>) -> Response {
    let user = match gate(&s, &h, &m, &u, true, None).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let list = s
        .read_account(|ex| {
            ex.fills(user)
                .into_iter()
                .filter(|f| q.ticker.as_deref().is_none_or(|t| t == f.ticker))
                .filter(|f| q.order_id.as_deref().is_none_or(|o| o == f.order_id))
                .map(render::fill)
                .collect::<Vec<_>>()
        })
        .1;
    match page(list, &q, 1000) {
        Ok((items, cursor)) => ok(StatusCode::OK, json!({"fills": items, "cursor": cursor})),
        Err(r) => r,
    }
}

/// `CreateOrderV2Request`.
#[derive(Debug, Deserialize)]
struct CreateOrder {
    ticker: String,
    client_order_id: Option<String>,
    side: String,
    count: String,
    price: String,
    time_in_force: String,
    self_trade_prevention_type: String,
    expiration_time: Option<i64>,
    #[serde(default)]
    post_only: bool,
    #[serde(default)]
    cancel_order_on_pause: bool,
    #[serde(default)]
    reduce_only: bool,
    #[serde(default)]
    subaccount: u32,
    order_group_id: Option<String>,
    #[allow(dead_code)]
    exchange_index: Option<i64>,
}

fn parse_side(text: &str) -> Result<BookSide, FieldError> {
    match text {
        "bid" => Ok(BookSide::Bid),
        "ask" => Ok(BookSide::Ask),
        _ => Err(FieldError(format!(
            "side: {text:?} is not a side; expected \"bid\" (buy YES) or \"ask\" (sell YES)"
        ))),
    }
}

impl CreateOrder {
    fn to_new_order(&self, user: UserId) -> Result<NewOrder, FieldError> {
        let time_in_force = match self.time_in_force.as_str() {
            "good_till_canceled" => TimeInForce::GoodTillCanceled,
            "immediate_or_cancel" => TimeInForce::ImmediateOrCancel,
            "fill_or_kill" => TimeInForce::FillOrKill,
            other => {
                return Err(FieldError(format!(
                    "time_in_force: {other:?} is unknown; expected good_till_canceled, immediate_or_cancel or fill_or_kill"
                )));
            }
        };
        let self_trade_prevention = match self.self_trade_prevention_type.as_str() {
            "taker_at_cross" => SelfTradePrevention::TakerAtCross,
            "maker" => SelfTradePrevention::Maker,
            other => {
                return Err(FieldError(format!(
                    "self_trade_prevention_type: {other:?} is unknown; expected taker_at_cross or maker"
                )));
            }
        };
        if self.subaccount != 0 {
            return Err(FieldError(format!(
                "subaccount: {} does not exist; this venue has only the primary account, 0",
                self.subaccount
            )));
        }
        Ok(NewOrder {
            user,
            ticker: self.ticker.clone(),
            client_order_id: self.client_order_id.clone().filter(|c| !c.is_empty()),
            side: parse_side(&self.side)?,
            count: parse_count("count", &self.count)?,
            price: parse_price("price", &self.price)?,
            time_in_force,
            self_trade_prevention,
            post_only: self.post_only,
            reduce_only: self.reduce_only,
            expiration_ts: self.expiration_time,
            cancel_order_on_pause: self.cancel_order_on_pause,
        })
    }
}

fn record_arrival(s: &Shared, client_order_id: Option<&str>) {
    if let (Some(probe), Some(id)) = (&s.probe, client_order_id) {
        lock(&probe.orders).insert(id.to_owned(), pt_engine::model::Nanos::now().0);
    }
}

fn injected_reject(s: &Shared) -> Option<Reject> {
    let p = s.faults().reject_orders;
    (p > 0.0 && rand::thread_rng().gen_bool(p.min(1.0))).then(|| Reject {
        status: 503,
        code: "service_unavailable",
        message: "order rejected (injected fault)".to_owned(),
    })
}

/// Places one order; the V2 response body or why not.
fn place(s: &Shared, user: UserId, req: &CreateOrder) -> Result<Value, Reject> {
    let order = req.to_new_order(user).map_err(|e| Reject {
        status: 400,
        code: "invalid_parameters",
        message: e.0,
    })?;
    if let Some(r) = injected_reject(s) {
        return Err(r);
    }
    let group = req.order_group_id.clone().filter(|g| !g.is_empty());
    s.with_exchange(|ex, now, ev| {
        match &group {
            Some(g) => ex.place_in_group(order, g, now, ev),
            None => ex.place(order, now, ev),
        }
        .map(|o| render::order_ack(&o, now))
    })
}

async fn create_order(State(s): App, h: HeaderMap, m: Method, u: Uri, b: Bytes) -> Response {
    let req: Result<CreateOrder, _> = body(&b);
    if let Ok(r) = &req {
        record_arrival(&s, r.client_order_id.as_deref());
    }
    let user = match gate(&s, &h, &m, &u, true, Some(faults::cost(false, 1))).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let req = match req {
        Ok(r) => r,
        Err(r) => return r,
    };
    match place(&s, user, &req) {
        Ok(v) => ok(StatusCode::CREATED, v),
        Err(r) => reject(&r),
    }
}

#[derive(Debug, Deserialize)]
struct Batch<T> {
    orders: Vec<T>,
}

/// What every batch does first: parse the body, pass the gate with the
/// batch's token cost (per item; a cancel costs less), check its length.
async fn open_batch<T: serde::de::DeserializeOwned>(
    s: &Shared,
    h: &HeaderMap,
    m: &Method,
    u: &Uri,
    b: &Bytes,
    is_cancel: bool,
) -> Result<(UserId, Vec<T>), Response> {
    let req: Result<Batch<T>, _> = body(b);
    let items = req.as_ref().map_or(1, |r| r.orders.len());
    let user = gate(s, h, m, u, true, Some(faults::cost(is_cancel, items))).await?;
    let orders = req?.orders;
    if orders.is_empty() || orders.len() > MAX_BATCH {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
            &format!(
                "orders: {} orders in the batch; expected 1 to {MAX_BATCH}",
                orders.len()
            ),
        ));
    }
    Ok((user, orders))
}

/// One batch item's result: the item's body with `"error": null`, or the
/// error body inline.
fn batch_item(result: Result<Value, Reject>, on_error: Value) -> Value {
    match result {
        Ok(mut v) => {
            v["error"] = Value::Null;
            v
        }
        Err(r) => {
            let mut v = on_error;
            v["error"] = render::error(r.code, &r.message);
            v
        }
    }
}

async fn batch_create(State(s): App, h: HeaderMap, m: Method, u: Uri, b: Bytes) -> Response {
    let (user, orders) = match open_batch::<CreateOrder>(&s, &h, &m, &u, &b, false).await {
        Ok(batch) => batch,
        Err(r) => return r,
    };
    let out: Vec<Value> = orders
        .iter()
        .map(|o| {
            record_arrival(&s, o.client_order_id.as_deref());
            batch_item(
                place(&s, user, o),
                json!({"client_order_id": o.client_order_id}),
            )
        })
        .collect();
    ok(StatusCode::CREATED, json!({"orders": out}))
}

fn cancel(s: &Shared, user: UserId, id: &str) -> Result<Value, Reject> {
    s.with_exchange(|ex, now, ev| {
        ex.cancel(user, id, now, ev).map(|(o, reduced)| {
            json!({
                "order_id": o.order_id,
                "client_order_id": o.client_order_id,
                "reduced_by": crate::wire::count(reduced),
                "ts_ms": now,
            })
        })
    })
}

async fn cancel_order(
    State(s): App,
    h: HeaderMap,
    m: Method,
    u: Uri,
    Path(id): Path<String>,
) -> Response {
    let user = match gate(&s, &h, &m, &u, true, Some(faults::cost(true, 1))).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match cancel(&s, user, &id) {
        Ok(v) => ok(StatusCode::OK, v),
        Err(r) => reject(&r),
    }
}

#[derive(Debug, Deserialize)]
struct CancelItem {
    order_id: String,
}

async fn batch_cancel(State(s): App, h: HeaderMap, m: Method, u: Uri, b: Bytes) -> Response {
    let (user, orders) = match open_batch::<CancelItem>(&s, &h, &m, &u, &b, true).await {
        Ok(batch) => batch,
        Err(r) => return r,
    };
    let out: Vec<Value> = orders
        .iter()
        .map(|item| {
            batch_item(
                cancel(&s, user, &item.order_id),
                json!({"order_id": item.order_id, "reduced_by": "0.00"}),
            )
        })
        .collect();
    ok(StatusCode::OK, json!({"orders": out}))
}

#[derive(Debug, Deserialize)]
struct AmendOrder {
    ticker: String,
    side: String,
    price: String,
    count: String,
    #[allow(dead_code)]
    client_order_id: Option<String>,
    updated_client_order_id: Option<String>,
}

async fn amend_order(
    State(s): App,
    h: HeaderMap,
    m: Method,
    u: Uri,
    Path(id): Path<String>,
    b: Bytes,
) -> Response {
    let user = match gate(&s, &h, &m, &u, true, Some(faults::cost(false, 1))).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let req: AmendOrder = match body(&b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let parsed = parse_side(&req.side).and_then(|side| {
        Ok((
            side,
            parse_price("price", &req.price)?,
            parse_count("count", &req.count)?,
        ))
    });
    let (side, price, count) = match parsed {
        Ok(p) => p,
        Err(e) => return bad_request(&e),
    };
    let result = s.with_exchange(|ex, now, ev| {
        ex.amend(
            user,
            &id,
            &req.ticker,
            side,
            price,
            count,
            req.updated_client_order_id.clone(),
            now,
            ev,
        )
        .map(|o: Order| render::order_ack(&o, now))
    });
    match result {
        Ok(v) => ok(StatusCode::OK, v),
        Err(r) => reject(&r),
    }
}

#[derive(Debug, Deserialize)]
struct DecreaseOrder {
    reduce_by: Option<String>,
    reduce_to: Option<String>,
}

async fn decrease_order(
    State(s): App,
    h: HeaderMap,
    m: Method,
    u: Uri,
    Path(id): Path<String>,
    b: Bytes,
) -> Response {
    let user = match gate(&s, &h, &m, &u, true, Some(faults::cost(true, 1))).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let req: DecreaseOrder = match body(&b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let parse = |field: &str, v: &Option<String>| -> Result<_, FieldError> {
        v.as_deref()
            .map(|t| {
                pt_engine::model::Qty::parse(t)
                    .ok()
                    .filter(|q| q.raw() >= 0 && q.raw() % 1_000_000 == 0)
                    .ok_or_else(|| {
                        FieldError(format!(
                            "{field}: {t:?} is not a count; expected a string like \"2.00\""
                        ))
                    })
            })
            .transpose()
    };
    let (by, to) = match (
        parse("reduce_by", &req.reduce_by),
        parse("reduce_to", &req.reduce_to),
    ) {
        (Ok(by), Ok(to)) => (by, to),
        (Err(e), _) | (_, Err(e)) => return bad_request(&e),
    };
    if by.is_some() == to.is_some() {
        return bad_request(&FieldError(
            "reduce_by, reduce_to: give exactly one of the two".to_owned(),
        ));
    }
    let result = s.with_exchange(|ex, now, ev| {
        ex.decrease(user, &id, by, to, now, ev).map(|o| {
            json!({
                "order_id": o.order_id,
                "client_order_id": o.client_order_id,
                "remaining_count": crate::wire::count(o.remaining_count),
                "ts_ms": now,
            })
        })
    });
    match result {
        Ok(v) => ok(StatusCode::OK, v),
        Err(r) => reject(&r),
    }
}

// ---- admin ----

async fn get_faults(State(s): App) -> Response {
    ok(StatusCode::OK, json!(s.faults()))
}

/// Replaces the fault settings with the given JSON object; keys left out
/// are turned off.
async fn set_faults(State(s): App, b: Bytes) -> Response {
    let faults: Faults = match body(&b) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(e) = faults.validate() {
        return error(StatusCode::BAD_REQUEST, "invalid_parameters", &e);
    }
    s.set_faults(faults);
    ok(StatusCode::OK, json!(s.faults()))
}

async fn drop_connections(State(s): App) -> Response {
    s.drop_generation.send_modify(|g| *g += 1);
    ok(StatusCode::OK, json!({"dropped": true}))
}

#[derive(Debug, Deserialize)]
struct PauseRequest {
    paused: bool,
}

async fn pause(State(s): App, b: Bytes) -> Response {
    let req: PauseRequest = match body(&b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    s.with_exchange(|ex, now, ev| ex.set_paused(req.paused, now, ev));
    ok(StatusCode::OK, json!({"paused": req.paused}))
}

#[derive(Debug, Deserialize)]
struct SettleRequest {
    ticker: String,
    result: String,
}

async fn settle(State(s): App, b: Bytes) -> Response {
    let req: SettleRequest = match body(&b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let outcome = match req.result.as_str() {
        "yes" => Outcome::Yes,
        "no" => Outcome::No,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameters",
                &format!("result: {other:?} is not an outcome; expected \"yes\" or \"no\""),
            );
        }
    };
    match s.with_exchange(|ex, now, ev| ex.settle(&req.ticker, outcome, now, ev)) {
        Ok(()) => ok(
            StatusCode::OK,
            json!({"ticker": req.ticker, "result": req.result}),
        ),
        Err(r) => reject(&r),
    }
}

/// The latency probe's records: `{"frames": [[conn, sid, seq, send_ns]...],
/// "orders": {"client_order_id": arrival_ns}}`, then cleared.
async fn probe(State(s): App) -> Response {
    let Some(p) = &s.probe else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the latency probe is off; start with --probe",
        );
    };
    let frames: Vec<[i64; 4]> = std::mem::take(&mut *lock(&p.frames))
        .into_iter()
        .map(|((c, sid, seq), ns)| [c as i64, sid as i64, seq as i64, ns])
        .collect();
    let orders: HashMap<String, i64> = std::mem::take(&mut *lock(&p.orders));
    ok(StatusCode::OK, json!({"frames": frames, "orders": orders}))
}
