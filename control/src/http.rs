//! The control server's HTTP side: `/health`, `/metrics` (Prometheus text)
//! and the REST API over the store, `/api/v1/...`.
//!
//! Money, prices and quantities are exact decimal strings. Lists are newest
//! first and paged by cursor: `?limit=` (1 to 1000, default 100) and
//! `?cursor=` from the previous page's `next_cursor`. Errors are JSON
//! `{"error": {"code": …, "message": …}}` with a matching status.

use crate::db::{Conn, DbError, DbResult, Row};
use crate::ingest::IngestStatus;
use crate::store::now_ns;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pt_engine::model::Qty;
use pt_engine::model::heartbeat::OrderVenue;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// What the supervisor says of the engine.
#[derive(Clone, Debug, Default)]
pub struct EngineHealth {
    /// The running engine's pid, once spawned.
    pub pid: Option<u32>,
    /// It printed its readiness line.
    pub ready: bool,
    /// Starts after the first.
    pub restarts: u64,
    /// Times it was killed for missing heartbeats.
    pub unresponsive: u64,
    /// How the last one ended.
    pub last_exit: Option<String>,
}

/// What the handlers share.
#[derive(Debug)]
pub struct Shared {
    /// A read-only connection to the store.
    pub db: Mutex<Conn>,
    /// The ingest's latest status.
    pub ingest: Mutex<Option<IngestStatus>>,
    /// The engine's state.
    pub engine: Mutex<EngineHealth>,
    /// The engine's heartbeat period.
    pub heartbeat_ns: i64,
}

type App = Arc<Shared>;

/// A typed error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn bad(message: String) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "store_unavailable",
            message: format!("the store could not answer: {e}"),
        }
    }
}

/// The router over `app`.
pub fn router(app: App) -> axum::Router {
    axum::Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/v1/markets", get(markets))
        .route("/api/v1/markets/{ticker}/history", get(history))
        .route("/api/v1/positions", get(positions))
        .route("/api/v1/orders", get(orders))
        .route("/api/v1/fills", get(fills))
        .fallback(|| async {
            ApiError {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: "no such endpoint; see /api/v1/markets, /api/v1/positions, /api/v1/orders, /api/v1/fills, /health, /metrics".into(),
            }
        })
        .with_state(app)
}

fn dec(raw: Option<i64>) -> Value {
    raw.map_or(Value::Null, |r| Value::String(Qty::from_raw(r).to_string()))
}

async fn query<T: Send + 'static>(
    app: App,
    f: impl FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut db = app.db.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut db)
    })
    .await
    .map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "internal",
        message: format!("the query task failed: {e}"),
    })?
}

/// `?limit=&cursor=` as given.
#[derive(Deserialize, Debug, Default)]
pub struct Page {
    limit: Option<String>,
    cursor: Option<String>,
    state: Option<String>,
    mode: Option<String>,
}

impl Page {
    fn limit(&self) -> Result<i64, ApiError> {
        match &self.limit {
            None => Ok(100),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=1000).contains(&n) => Ok(n),
                _ => Err(ApiError::bad(format!(
                    "limit = {s:?}: expected a whole number from 1 to 1000"
                ))),
            },
        }
    }

    fn cursor(&self) -> Result<i64, ApiError> {
        match &self.cursor {
            None => Ok(i64::MAX),
            Some(s) => s.parse::<i64>().map_err(|_| {
                ApiError::bad(format!(
                    "cursor = {s:?}: expected the next_cursor of a previous page"
                ))
            }),
        }
    }
}

/// Every order state's name.
pub const STATES: [&str; 9] = [
    "pending_new",
    "acked",
    "partially_filled",
    "filled",
    "pending_cancel",
    "cancelled",
    "rejected",
    "expired",
    "unknown",
];

fn mode_filter(p: &Page) -> Result<Option<String>, ApiError> {
    match p.mode.as_deref() {
        None => Ok(None),
        Some(m @ ("paper" | "shadow" | "live")) => Ok(Some(m.to_owned())),
        Some(m) => Err(ApiError::bad(format!(
            "mode = {m:?}: expected paper, shadow or live"
        ))),
    }
}

/// A page of `rows`, each made an item by `item`: the items, and the last
/// row's cursor (its first column) when the page is full (there may be more).
fn paged(
    rows: &[Row],
    limit: i64,
    item: impl Fn(&Row) -> DbResult<Value>,
) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = rows.iter().map(&item).collect::<Result<_, _>>()?;
    let next = match rows.last() {
        Some(r) if rows.len() as i64 == limit => Some(r.int(0)?.to_string()),
        _ => None,
    };
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

async fn markets(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    query(app, |db| {
        let rows = db.query(
            "SELECT ticker, bid, bid_qty, ask, ask_qty, stale, updated_ns FROM markets ORDER BY instrument",
            &[],
        )?;
        let items: Vec<Value> = rows
            .iter()
            .map(|r| {
                Ok(json!({
                    "ticker": r.opt_text(0)?,
                    "bid": dec(r.opt_int(1)?), "bid_qty": dec(r.opt_int(2)?),
                    "ask": dec(r.opt_int(3)?), "ask_qty": dec(r.opt_int(4)?),
                    "stale": r.flag(5)?, "updated_ns": r.int(6)?,
                }))
            })
            .collect::<DbResult<_>>()?;
        Ok(Json(json!({ "items": items })))
    })
    .await
}

async fn history(
    State(app): State<App>,
    Path(ticker): Path<String>,
    Query(p): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    let (limit, cursor) = (p.limit()?, p.cursor()?);
    query(app, move |db| {
        let known = db
            .query_one(
                "SELECT instrument FROM markets WHERE ticker = ?1",
                &[ticker.as_str().into()],
            )?
            .is_some();
        if !known {
            return Err(ApiError {
                status: StatusCode::NOT_FOUND,
                code: "unknown_market",
                message: format!(
                    "no market {ticker:?} in the store; /api/v1/markets lists the markets"
                ),
            });
        }
        let rows = db.query(
            "SELECT seq, ts_ns, bid, bid_qty, ask, ask_qty, stale FROM market_snapshots
             WHERE ticker = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
            &[ticker.as_str().into(), cursor.into(), limit.into()],
        )?;
        paged(&rows, limit, |r| {
            Ok(json!({
                "ts_ns": r.int(1)?,
                "bid": dec(r.opt_int(2)?), "bid_qty": dec(r.opt_int(3)?),
                "ask": dec(r.opt_int(4)?), "ask_qty": dec(r.opt_int(5)?),
                "stale": r.flag(6)?,
            }))
        })
    })
    .await
}

async fn positions(State(app): State<App>, Query(p): Query<Page>) -> Result<Json<Value>, ApiError> {
    let mode = mode_filter(&p)?;
    query(app, move |db| {
        let rows = db.query(
            "SELECT mode, ticker, qty, cost_basis, realized, traded, updated_ns FROM positions
             WHERE (?1 IS NULL OR mode = ?1) ORDER BY mode, instrument",
            &[mode.into()],
        )?;
        let items: Vec<Value> = rows
            .iter()
            .map(|r| {
                Ok(json!({
                    "mode": r.text(0)?, "ticker": r.opt_text(1)?,
                    "qty": dec(r.opt_int(2)?), "cost_basis": dec(r.opt_int(3)?),
                    "realized": dec(r.opt_int(4)?), "traded": dec(r.opt_int(5)?),
                    "updated_ns": r.int(6)?,
                }))
            })
            .collect::<DbResult<_>>()?;
        Ok(Json(json!({ "items": items })))
    })
    .await
}

async fn orders(State(app): State<App>, Query(p): Query<Page>) -> Result<Json<Value>, ApiError> {
    let (limit, cursor, mode) = (p.limit()?, p.cursor()?, mode_filter(&p)?);
    let state = match p.state.as_deref() {
        None => None,
        Some("open") => Some("open".to_owned()),
        Some(s) if STATES.contains(&s) => Some(s.to_owned()),
        Some(s) => {
            return Err(ApiError::bad(format!(
                "state = {s:?}: expected open or one of {}",
                STATES.join(", ")
            )));
        }
    };
    query(app, move |db| {
        let rows = db.query(
            "SELECT last_seq, client_order_id, strategy, ticker, side, price, qty, cum_qty, fees,
             state, requested_mode, mode, venue_order_id, created_ns, updated_ns FROM orders
             WHERE last_seq < ?1 AND (?2 IS NULL OR mode = ?2)
             AND (?3 IS NULL OR state = ?3 OR (?3 = 'open' AND state NOT IN
                  ('filled', 'cancelled', 'rejected', 'expired')))
             ORDER BY last_seq DESC LIMIT ?4",
            &[cursor.into(), mode.into(), state.into(), limit.into()],
        )?;
        paged(&rows, limit, |r| {
            Ok(json!({
                "client_order_id": r.text(1)?, "strategy": r.int(2)?,
                "ticker": r.opt_text(3)?, "side": r.text(4)?,
                "price": dec(r.opt_int(5)?), "qty": dec(r.opt_int(6)?),
                "cum_qty": dec(r.opt_int(7)?), "fees": dec(r.opt_int(8)?),
                "state": r.text(9)?, "requested_mode": r.text(10)?, "mode": r.text(11)?,
                "venue_order_id": r.opt_text(12)?,
                "created_ns": r.int(13)?, "updated_ns": r.int(14)?,
            }))
        })
    })
    .await
}

async fn fills(State(app): State<App>, Query(p): Query<Page>) -> Result<Json<Value>, ApiError> {
    let (limit, cursor, mode) = (p.limit()?, p.cursor()?, mode_filter(&p)?);
    query(app, move |db| {
        let rows = db.query(
            "SELECT seq, ts_ns, client_order_id, strategy, ticker, side, price, qty, fee,
             liquidity, trade_id, mode FROM fills
             WHERE seq < ?1 AND (?2 IS NULL OR mode = ?2) ORDER BY seq DESC LIMIT ?3",
            &[cursor.into(), mode.into(), limit.into()],
        )?;
        paged(&rows, limit, |r| {
            Ok(json!({
                "ts_ns": r.int(1)?, "client_order_id": r.text(2)?,
                "strategy": r.int(3)?, "ticker": r.opt_text(4)?,
                "side": r.text(5)?, "price": dec(r.opt_int(6)?),
                "qty": dec(r.opt_int(7)?), "fee": dec(r.opt_int(8)?),
                "liquidity": r.text(9)?,
                "trade_id": r.opt_text(10)?, "mode": r.text(11)?,
            }))
        })
    })
    .await
}

/// The health verdict: engine liveness, heartbeat age, journal lag.
fn health_of(app: &Shared) -> (bool, Value) {
    let engine = app.engine.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let ingest = app.ingest.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let now = now_ns();
    let (beat_age, lag, caught_up) = match &ingest {
        Some(s) => (
            s.heartbeat_age(engine.pid, now),
            s.journal_lag(now),
            s.caught_up,
        ),
        None => (None, 0, false),
    };
    let alive = engine.pid.is_some()
        && engine.ready
        && beat_age.is_some_and(|a| a <= 20 * app.heartbeat_ns.max(100_000_000));
    let reported = ingest.as_ref().and_then(|s| s.fold.venue);
    // What keeps it from being ok, for the operator.
    let mut problems = Vec::new();
    if !alive {
        problems.push("the engine is not running, not ready, or its heartbeats are late");
    }
    if !caught_up {
        problems.push("the store is behind the journals");
    }
    if let Some(v) = reported {
        if !v.market_data {
            problems.push("the market-data session is down (books are stale)");
        }
        if matches!(v.orders, OrderVenue::Connecting | OrderVenue::Reconciling) {
            problems.push("the live order venue is connecting or reconciling");
        }
    }
    let ok = problems.is_empty();
    let venue = reported.map(|v| {
        json!({
            "market_data": if v.market_data { "connected" } else { "disconnected" },
            "orders": v.orders.name(),
        })
    });
    let body = json!({
        "status": if ok { "ok" } else { "degraded" },
        "problems": problems,
        "engine": {
            "running": engine.pid.is_some(), "pid": engine.pid, "ready": engine.ready,
            "restarts": engine.restarts, "unresponsive_kills": engine.unresponsive,
            "last_exit": engine.last_exit,
            "heartbeat_age_ms": beat_age.map(|a| a / 1_000_000),
        },
        "venue": venue,
        "journal": {
            "lag_ms": lag / 1_000_000, "caught_up": caught_up,
            "orders_next_seq": ingest.as_ref().map(|s| s.orders_next),
            "md_next_seq": ingest.as_ref().map(|s| s.md_next),
        },
    });
    (ok, body)
}

async fn health(State(app): State<App>) -> Response {
    let (ok, body) = health_of(&app);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// One metric family in Prometheus text.
fn family(m: &mut String, name: &str, help: &str, kind: &str, lines: &[(String, f64)]) {
    let _ = writeln!(m, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, v) in lines {
        let _ = writeln!(m, "{name}{labels} {v}");
    }
}

/// A histogram of nanoseconds as a Prometheus summary in seconds.
fn summary(m: &mut String, name: &str, help: &str, h: &hdrhistogram::Histogram<u64>) {
    let lines: Vec<(String, f64)> = [0.5, 0.9, 0.99, 0.999]
        .iter()
        .map(|&p| {
            (
                format!("{{quantile=\"{p}\"}}"),
                h.value_at_quantile(p) as f64 / 1e9,
            )
        })
        .collect();
    family(m, name, help, "summary", &lines);
    let _ = writeln!(m, "{name}_count {}", h.len());
}

fn dollars(raw: i64) -> f64 {
    raw as f64 / pt_engine::model::UNIT as f64
}

async fn metrics(State(app): State<App>) -> Result<Response, ApiError> {
    let (states, pnl) = query(app.clone(), |db| {
        let states: HashMap<String, i64> = db
            .query("SELECT state, COUNT(*) FROM orders GROUP BY state", &[])?
            .iter()
            .map(|r| Ok((r.text(0)?, r.int(1)?)))
            .collect::<DbResult<_>>()?;
        let pnl: Vec<(String, [i64; 4])> = db
            .query(
                "SELECT p.mode, p.realized, p.unrealized, p.fees, p.total FROM pnl_snapshots p
                 JOIN (SELECT mode, MAX(seq) AS seq FROM pnl_snapshots GROUP BY mode) l
                 ON p.mode = l.mode AND p.seq = l.seq",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, [r.int(1)?, r.int(2)?, r.int(3)?, r.int(4)?])))
            .collect::<DbResult<_>>()?;
        Ok((states, pnl))
    })
    .await?;
    let (ok, _) = health_of(&app);
    let engine = app.engine.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let ingest = app.ingest.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut m = String::with_capacity(4096);
    let one = |v: f64| vec![(String::new(), v)];
    let ok = f64::from(u8::from(ok));
    family(
        &mut m,
        "pt_up",
        "1 when the engine is ready, beating and the store caught up.",
        "gauge",
        &one(ok),
    );
    family(
        &mut m,
        "pt_engine_restarts_total",
        "Engine processes started after the first.",
        "counter",
        &one(engine.restarts as f64),
    );
    family(
        &mut m,
        "pt_engine_unresponsive_total",
        "Engines killed for missing heartbeats.",
        "counter",
        &one(engine.unresponsive as f64),
    );
    let states: Vec<(String, f64)> = STATES
        .iter()
        .map(|s| {
            (
                format!("{{state=\"{s}\"}}"),
                *states.get(*s).unwrap_or(&0) as f64,
            )
        })
        .collect();
    family(
        &mut m,
        "pt_orders",
        "Orders in the store by state.",
        "gauge",
        &states,
    );
    let mut pnl_lines = Vec::new();
    for (mode, v) in &pnl {
        for (part, x) in ["realized", "unrealized", "fees", "total"].iter().zip(v) {
            pnl_lines.push((format!("{{mode=\"{mode}\",part=\"{part}\"}}"), dollars(*x)));
        }
    }
    family(
        &mut m,
        "pt_pnl_dollars",
        "PnL at the latest snapshot by mode (total = realized + unrealized - fees).",
        "gauge",
        &pnl_lines,
    );
    if let Some(s) = &ingest {
        let f = &s.fold;
        family(
            &mut m,
            "pt_md_events_total",
            "Records of the md journal (market events, commands, heartbeats); rate() gives events/s.",
            "counter",
            &one(f.md_records as f64),
        );
        let r = f.md_ring;
        let ring = [r.dropped, r.stale_marks, r.max_depth, r.depth];
        for (name, help, kind, v) in [
            (
                "pt_md_ring_dropped_total",
                "Market events the engine's md ring dropped when full (their instruments marked stale).",
                "counter",
                ring[0],
            ),
            (
                "pt_md_ring_stale_marks_total",
                "Stale marks the md ring delivered in place of dropped events.",
                "counter",
                ring[1],
            ),
            (
                "pt_md_ring_max_depth",
                "The deepest backlog the engine's decision path saw on the md ring.",
                "gauge",
                ring[2],
            ),
            (
                "pt_md_ring_depth",
                "Events on the md ring at the last heartbeat.",
                "gauge",
                ring[3],
            ),
        ] {
            family(&mut m, name, help, kind, &one(v as f64));
        }
        family(
            &mut m,
            "pt_heartbeats_total",
            "Engine heartbeats in the md journal.",
            "counter",
            &one(f.heartbeats as f64),
        );
        family(
            &mut m,
            "pt_orders_records_total",
            "Records of the orders journal.",
            "counter",
            &one(f.orders_records as f64),
        );
        family(
            &mut m,
            "pt_intents_total",
            "Order intents the gateway journaled.",
            "counter",
            &one(f.intents as f64),
        );
        family(
            &mut m,
            "pt_fills_total",
            "Fills.",
            "counter",
            &one(f.fills as f64),
        );
        let rejects: Vec<(String, f64)> = f
            .rejects
            .iter()
            .map(|(r, n)| (format!("{{reason=\"{r}\"}}"), *n as f64))
            .collect();
        family(
            &mut m,
            "pt_rejects_total",
            "Rejects by reason.",
            "counter",
            &rejects,
        );
        summary(
            &mut m,
            "pt_tick_to_trade_seconds",
            "Market event received to order intent journaled by the gateway.",
            &f.tick_to_trade,
        );
        summary(
            &mut m,
            "pt_store_lag_seconds",
            "Journal write to store commit, per orders record.",
            &s.lag,
        );
        let lag = s.journal_lag(now_ns());
        family(
            &mut m,
            "pt_journal_lag_seconds",
            "How far the store is behind the journals (0 when caught up).",
            "gauge",
            &one(lag as f64 / 1e9),
        );
        family(
            &mut m,
            "pt_store_rows_total",
            "Rows written to the store.",
            "counter",
            &one(s.rows as f64),
        );
        family(
            &mut m,
            "pt_store_commits_total",
            "Store transactions.",
            "counter",
            &one(s.commits as f64),
        );
        family(
            &mut m,
            "pt_journal_bad_records_total",
            "Journal records that were not valid engine events.",
            "counter",
            &one(s.bad_records as f64),
        );
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        m,
    )
        .into_response())
}
