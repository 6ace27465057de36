//! The gRPC control service (`pt.control.v1.Control`), with server
//! reflection. Reads come from the store and the ingest's status; every
//! mutating call is checked, audited (who, when, what, result) and written
//! as a command into the engine's `commands/` journal, which the engine
//! takes on its next turn.

use crate::auth::{self, Refusal, Role, Token};
use crate::commands::CommandWriter;
use crate::db::{Conn, DbResult};
use crate::fold::{kind_name, reason};
use crate::http::Shared;
use crate::pb;
use crate::pb::control_server::Control;
use crate::store::Store;
use pt_engine::model::{
    Command, CommandAction, Event, EventKind, Header, InstrumentId, Mode, Nanos, Qty, Scope,
    StrategyId,
};
use pt_journal::{StartAt, Tailer};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::{Request, Response, Status};

/// What only the engine's configuration knows: how to build its commands.
pub trait Commands: Send + Sync + 'static {
    /// A signal command for `market`, checked.
    fn signal(
        &self,
        market: &str,
        probability: &str,
        confidence: &str,
        ttl: Duration,
        now: Nanos,
    ) -> Result<Command, String>;
    /// A parameter change of strategy `strategy`, checked against its kind.
    fn param(&self, strategy: u16, name: &str, value: &str, now: Nanos) -> Result<Command, String>;
    /// How many strategies the engine runs (numbered from 1).
    fn strategies(&self) -> usize;
    /// The venue id of `name`.
    fn venue(&self, name: &str) -> Result<u32, String>;
    /// The ticker of an instrument id.
    fn ticker(&self, instrument: u32) -> Option<&str>;
    /// The risk policy file the configuration names (version 0).
    fn policy_file(&self) -> Option<&std::path::Path>;
}

/// The service.
pub struct ControlService {
    pub(crate) shared: Arc<Shared>,
    pub(crate) audit: Mutex<Store>,
    pub(crate) data_dir: PathBuf,
    pub(crate) commands: Arc<dyn Commands>,
    tokens: Vec<Token>,
    mode: Mode,
}

impl std::fmt::Debug for ControlService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlService")
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

fn dec(raw: i64) -> String {
    Qty::from_raw(raw).to_string()
}

fn refused(r: Refusal, call: &str) -> Status {
    match r {
        Refusal::Missing => Status::unauthenticated(format!(
            "{call}: no token; send `authorization: Bearer <token>` (pt ctl reads it from $PT_TOKEN or --token-file)"
        )),
        Refusal::Unknown => Status::unauthenticated(format!(
            "{call}: the token is not one of [[control.token]]; `pt ctl hash-token` prints the sha256 to add"
        )),
        Refusal::Role { name, has, needs } => Status::permission_denied(format!(
            "{call}: token {name:?} has role {}; this call needs {}",
            has.name(),
            needs.name()
        )),
    }
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("the store could not answer: {e}"))
}

impl ControlService {
    /// A service over `shared`, writing audit rows with `audit` and commands
    /// into `data_dir/commands`, for tokens `tokens`; `mode` is the
    /// configured mode.
    pub fn new(
        shared: Arc<Shared>,
        audit: Store,
        data_dir: PathBuf,
        commands: Arc<dyn Commands>,
        tokens: Vec<Token>,
        mode: Mode,
    ) -> ControlService {
        ControlService {
            shared,
            audit: Mutex::new(audit),
            data_dir,
            commands,
            tokens,
            mode,
        }
    }

    fn who<T>(&self, req: &Request<T>, needs: Role, call: &str) -> Result<Token, Status> {
        let header = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        auth::check(&self.tokens, header, needs)
            .cloned()
            .map_err(|r| {
                let who = match &r {
                    Refusal::Missing => "(no token)".to_owned(),
                    Refusal::Unknown => "(unknown token)".to_owned(),
                    Refusal::Role { name, .. } => name.clone(),
                };
                let status = refused(r, call);
                // A refused attempt to change something is audited too.
                if needs != Role::Viewer {
                    let result = format!("refused: {}", status.message());
                    self.audit_row(&who, call, "", &result);
                }
                status
            })
    }

    fn audit_row(&self, who: &str, action: &str, detail: &str, result: &str) -> i64 {
        let mut s = self.audit.lock().unwrap_or_else(|p| p.into_inner());
        s.audit(who, action, detail, result).unwrap_or(0)
    }

    fn audit_result(&self, id: i64, result: &str) {
        let mut s = self.audit.lock().unwrap_or_else(|p| p.into_inner());
        let _ = s.audit_result(id, result);
    }

    /// Audits, then writes `command` (built by `build`) into the commands
    /// journal; the audit row's result says what came of it.
    pub(crate) fn act(
        &self,
        who: &Token,
        action: &str,
        detail: String,
        build: impl FnOnce(Nanos) -> Result<Command, String>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let now = Nanos::now();
        let mut command = match build(now) {
            Ok(c) => c,
            Err(e) => {
                self.audit_row(&who.name, action, &detail, &format!("refused: {e}"));
                return Err(Status::invalid_argument(format!("{action}: {e}")));
            }
        };
        let id = self.audit_row(&who.name, action, &detail, "writing");
        command.issued_by = id as u64;
        let written = CommandWriter::open(&self.data_dir).and_then(|mut w| w.send(&command, now));
        match written {
            Ok(seq) => {
                self.audit_result(id, &format!("ok: command {seq}"));
                Ok(Response::new(pb::CommandReply {
                    seq,
                    message: format!(
                        "{action} {detail}: command {seq} written; the engine takes it on its next turn"
                    ),
                    audit_id: id,
                }))
            }
            Err(e) => {
                self.audit_result(id, &format!("failed: {e:#}"));
                Err(Status::unavailable(format!(
                    "{action}: the commands journal: {e:#}"
                )))
            }
        }
    }

    fn scope(&self, r: &pb::ScopeRequest) -> Result<(Scope, StrategyId, u32, String), String> {
        match (r.venue.as_str(), r.strategy) {
            ("", 0) => Ok((Scope::Global, StrategyId(0), 0, "everything".into())),
            (v, 0) => Ok((
                Scope::Venue,
                StrategyId(0),
                self.commands.venue(v)?,
                format!("venue {v}"),
            )),
            ("", s) => {
                let n = self.commands.strategies();
                if s as usize > n || s > u32::from(u16::MAX) {
                    return Err(format!("strategy {s}: the engine runs strategies 1 to {n}"));
                }
                Ok((
                    Scope::Strategy,
                    StrategyId(s as u16),
                    0,
                    format!("strategy {s}"),
                ))
            }
            _ => Err("name a venue or a strategy, not both".into()),
        }
    }

    fn scoped(
        &self,
        req: Request<pb::ScopeRequest>,
        action: CommandAction,
        name: &str,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let who = self.who(&req, Role::Operator, name)?;
        let r = req.into_inner();
        let scoped = self.scope(&r);
        let detail = scoped.as_ref().map_or_else(|e| e.clone(), |s| s.3.clone());
        self.act(&who, name, detail, |now| {
            let (scope, strategy, target, _) = scoped?;
            Ok(Command {
                header: Header::new(EventKind::Command, InstrumentId(0), 0, now),
                action,
                scope,
                strategy,
                target,
                ..Command::default()
            })
        })
    }

    fn query<T>(&self, f: impl FnOnce(&mut Conn) -> DbResult<T>) -> Result<T, Status> {
        let mut db = self.shared.db.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut db).map_err(internal)
    }
}

type EventStream = tokio_stream::wrappers::ReceiverStream<Result<pb::EventRecord, Status>>;

#[tonic::async_trait]
impl Control for ControlService {
    async fn status(
        &self,
        req: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusReply>, Status> {
        self.who(&req, Role::Viewer, "Status")?;
        let engine = self
            .shared
            .engine
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let now = crate::store::now_ns();
        let mut reply = pb::StatusReply {
            engine_running: engine.pid.is_some(),
            engine_pid: engine.pid.unwrap_or(0),
            engine_ready: engine.ready,
            restarts: engine.restarts,
            heartbeat_age_ms: -1,
            mode: self.mode.name().into(),
            trading: "active".into(),
            ..pb::StatusReply::default()
        };
        // From the ingest's fold, not the store: no query on this path.
        let ingest = self.shared.ingest.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = ingest.as_ref() {
            let f = &s.fold;
            reply.open_orders = u64::from(f.open_orders);
            let mut pnl = f.pnl.clone();
            pnl.sort_by_key(|p| p.mode);
            reply.pnl = pnl
                .iter()
                .map(|p| pb::ModePnl {
                    mode: p.mode.into(),
                    realized: dec(p.realized),
                    unrealized: dec(p.unrealized),
                    fees: dec(p.fees),
                    total: dec(p.total),
                })
                .collect();
            if let Some(age) = s.heartbeat_age(engine.pid, now) {
                reply.heartbeat_age_ms = age / 1_000_000;
            }
            reply.mode_set = f.mode_set.map(|m| m.name().to_owned()).unwrap_or_default();
            reply.trading = f.trading.into();
            reply.store_caught_up = s.caught_up;
            reply.journal_lag_ms = s.journal_lag(now) / 1_000_000;
            reply.fills = f.fills;
            reply.rejects = f.rejects.values().sum();
            reply.md_events = f.md_records;
            reply.stopped_strategies = f.stopped.iter().map(|&s| u32::from(s)).collect();
            reply.risk_version = f.risk_version;
        }
        Ok(Response::new(reply))
    }

    async fn list_positions(
        &self,
        req: Request<pb::ListPositionsRequest>,
    ) -> Result<Response<pb::ListPositionsReply>, Status> {
        self.who(&req, Role::Viewer, "ListPositions")?;
        let mode = req.into_inner().mode;
        if !matches!(mode.as_str(), "" | "paper" | "shadow" | "live") {
            return Err(Status::invalid_argument(format!(
                "mode {mode:?}: expected paper, shadow, live or nothing (all)"
            )));
        }
        let positions = self.query(|db| {
            db.query(
                "SELECT mode, COALESCE(ticker, ''), qty, cost_basis, realized FROM positions
                 WHERE (?1 = '' OR mode = ?1) ORDER BY mode, instrument",
                &[mode.as_str().into()],
            )?
            .iter()
            .map(|r| {
                Ok(pb::Position {
                    mode: r.text(0)?,
                    ticker: r.text(1)?,
                    qty: dec(r.int(2)?),
                    cost_basis: dec(r.int(3)?),
                    realized: dec(r.int(4)?),
                })
            })
            .collect::<DbResult<Vec<_>>>()
        })?;
        Ok(Response::new(pb::ListPositionsReply { positions }))
    }

    async fn list_orders(
        &self,
        req: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersReply>, Status> {
        self.who(&req, Role::Viewer, "ListOrders")?;
        let r = req.into_inner();
        let limit = match r.limit {
            0 => 100,
            n @ 1..=1000 => n,
            n => {
                return Err(Status::invalid_argument(format!(
                    "limit {n}: expected 1 to 1000"
                )));
            }
        };
        let states = crate::http::STATES;
        if !(r.state.is_empty() || r.state == "open" || states.contains(&r.state.as_str())) {
            return Err(Status::invalid_argument(format!(
                "state {:?}: expected open or one of {}",
                r.state,
                states.join(", ")
            )));
        }
        let cursor = match r.cursor.as_str() {
            "" => i64::MAX,
            c => c.parse::<i64>().map_err(|_| {
                Status::invalid_argument(format!(
                    "cursor {c:?}: expected the next_cursor of a previous page"
                ))
            })?,
        };
        let rows = self.query(|db| {
            db.query(
                "SELECT client_order_id, COALESCE(ticker, ''), side, price, qty, cum_qty, state, mode,
                 COALESCE(venue_order_id, ''), updated_ns, last_seq FROM orders
                 WHERE last_seq < ?3 AND (?1 = '' OR state = ?1 OR (?1 = 'open' AND state NOT IN
                       ('filled', 'cancelled', 'rejected', 'expired')))
                 ORDER BY last_seq DESC LIMIT ?2",
                &[r.state.as_str().into(), i64::from(limit).into(), cursor.into()],
            )
        })?;
        let orders = rows
            .iter()
            .map(|x| {
                Ok(pb::Order {
                    client_order_id: x.text(0)?,
                    ticker: x.text(1)?,
                    side: x.text(2)?,
                    price: dec(x.int(3)?),
                    qty: dec(x.int(4)?),
                    cum_qty: dec(x.int(5)?),
                    state: x.text(6)?,
                    mode: x.text(7)?,
                    venue_order_id: x.text(8)?,
                    updated_ns: x.int(9)?,
                })
            })
            .collect::<DbResult<Vec<_>>>()
            .map_err(internal)?;
        let next_cursor = match rows.last() {
            Some(x) if rows.len() == limit as usize => x.int(10).map_err(internal)?.to_string(),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListOrdersReply {
            orders,
            next_cursor,
        }))
    }

    type StreamEventsStream = EventStream;

    async fn stream_events(
        &self,
        req: Request<pb::StreamEventsRequest>,
    ) -> Result<Response<EventStream>, Status> {
        self.who(&req, Role::Viewer, "StreamEvents")?;
        let r = req.into_inner();
        let start = if r.from_end {
            StartAt::End
        } else {
            StartAt::Seq(r.from_seq)
        };
        let dir = self.data_dir.join("orders");
        let mut tailer = Tailer::open(&dir, start).map_err(|e| {
            Status::unavailable(format!("the orders journal {}: {e}", dir.display()))
        })?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let commands = self.commands.clone();
        std::thread::Builder::new()
            .name("pt-grpc-stream".into())
            .spawn(move || {
                while !tx.is_closed() {
                    let Ok(Some(rec)) = tailer.next() else {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    let Ok(e) = Event::from_bytes(rec.payload) else {
                        continue;
                    };
                    let mut out = pb::EventRecord {
                        seq: rec.seq,
                        ts_ns: rec.timestamp,
                        kind: kind_name(e.kind()).into(),
                        ..pb::EventRecord::default()
                    };
                    let (instrument, side, price, qty) = match e {
                        Event::Intent(i) => {
                            out.client_order_id = i.client_order_id.to_string();
                            (i.header.instrument, i.side, i.price, i.qty)
                        }
                        Event::Exec(x) => {
                            out.client_order_id = x.client_order_id.to_string();
                            if x.header.kind == EventKind::Reject {
                                out.reason = reason(x.reject_code);
                            }
                            (x.header.instrument, x.side, x.price, x.qty)
                        }
                        Event::Command(c) => {
                            out.reason = format!("{:?} {:?}", c.action, c.scope);
                            (
                                InstrumentId(u32::MAX),
                                Default::default(),
                                Default::default(),
                                Default::default(),
                            )
                        }
                        _ => continue,
                    };
                    out.ticker = commands.ticker(instrument.0).unwrap_or("").into();
                    if instrument.0 != u32::MAX {
                        out.side = format!("{side:?}").to_lowercase();
                        out.price = price.to_string();
                        out.qty = qty.to_string();
                    }
                    if tx.blocking_send(Ok(out)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| Status::internal(format!("cannot start the stream: {e}")))?;
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }

    async fn get_latency(
        &self,
        req: Request<pb::GetLatencyRequest>,
    ) -> Result<Response<pb::LatencyReply>, Status> {
        self.who(&req, Role::Viewer, "GetLatency")?;
        let ingest = self
            .shared
            .ingest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let q = |h: &hdrhistogram::Histogram<u64>| -> Vec<pb::Quantile> {
            [0.5, 0.9, 0.99, 0.999, 1.0]
                .iter()
                .map(|&p| pb::Quantile {
                    quantile: p,
                    nanos: h.value_at_quantile(p),
                })
                .collect()
        };
        Ok(Response::new(match ingest {
            Some(s) => pb::LatencyReply {
                tick_to_trade: q(&s.fold.tick_to_trade),
                tick_to_trade_count: s.fold.tick_to_trade.len(),
                store_lag: q(&s.lag),
            },
            None => pb::LatencyReply::default(),
        }))
    }

    async fn kill(
        &self,
        req: Request<pb::ScopeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.scoped(req, CommandAction::TripKillSwitch, "Kill")
    }

    async fn resume(
        &self,
        req: Request<pb::ScopeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.scoped(req, CommandAction::ResetKillSwitch, "Resume")
    }

    async fn flatten(
        &self,
        req: Request<pb::ScopeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.scoped(req, CommandAction::Flatten, "Flatten")
    }

    async fn set_mode(
        &self,
        req: Request<pb::SetModeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let mode = match req.get_ref().mode.as_str() {
            "paper" => Ok(Mode::Paper),
            "shadow" => Ok(Mode::Shadow),
            "live" => Ok(Mode::Live),
            m => Err(format!("mode {m:?}: expected paper, shadow or live")),
        };
        let needs = if mode == Ok(Mode::Live) {
            Role::Admin
        } else {
            Role::Operator
        };
        let who = self.who(&req, needs, "SetMode")?;
        let r = req.into_inner();
        let venue = if r.venue.is_empty() {
            "kalshi".to_owned()
        } else {
            r.venue.clone()
        };
        let detail = format!("{} on {venue}", r.mode);
        let target = self.commands.venue(&venue);
        self.act(&who, "SetMode", detail, |now| {
            let mode = mode?;
            if mode == Mode::Live && !r.confirm {
                return Err(
                    "live mode sends real orders: repeat with confirm (pt ctl asks you to type it)"
                        .into(),
                );
            }
            Ok(Command {
                header: Header::new(EventKind::Command, InstrumentId(0), 0, now),
                action: CommandAction::SetMode,
                scope: Scope::Venue,
                target: target?,
                arg: mode as i64,
                ..Command::default()
            })
        })
    }

    async fn send_signal(
        &self,
        req: Request<pb::SendSignalRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let who = self.who(&req, Role::Operator, "SendSignal")?;
        let r = req.into_inner();
        let ttl = Duration::from_secs(u64::from(if r.ttl_seconds == 0 {
            30
        } else {
            r.ttl_seconds
        }));
        let detail = format!(
            "{} p={} c={} ttl={}s",
            r.market,
            r.probability,
            r.confidence,
            ttl.as_secs()
        );
        let confidence = if r.confidence.is_empty() {
            "1"
        } else {
            &r.confidence
        };
        self.act(&who, "SendSignal", detail, |now| {
            self.commands
                .signal(&r.market, &r.probability, confidence, ttl, now)
        })
    }

    async fn set_strategy_param(
        &self,
        req: Request<pb::SetStrategyParamRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let who = self.who(&req, Role::Operator, "SetStrategyParam")?;
        let r = req.into_inner();
        let detail = format!("strategy {} {} = {}", r.strategy, r.name, r.value);
        self.act(&who, "SetStrategyParam", detail, |now| {
            let s = u16::try_from(r.strategy)
                .map_err(|_| format!("strategy {}: too large", r.strategy))?;
            self.commands.param(s, &r.name, &r.value, now)
        })
    }

    async fn get_risk_policy(
        &self,
        req: Request<pb::GetRiskPolicyRequest>,
    ) -> Result<Response<pb::RiskPolicyReply>, Status> {
        self.who(&req, Role::Viewer, "GetRiskPolicy")?;
        self.risk_policy().map(Response::new)
    }

    async fn set_risk_policy(
        &self,
        req: Request<pb::SetRiskPolicyRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let who = self.who(&req, Role::Admin, "SetRiskPolicy")?;
        self.set_risk(&who, req.into_inner().text)
    }

    async fn set_strategy_running(
        &self,
        req: Request<pb::SetStrategyRunningRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let who = self.who(&req, Role::Operator, "SetStrategyRunning")?;
        let r = req.into_inner();
        self.set_running(&who, r.strategy, r.running)
    }
}
