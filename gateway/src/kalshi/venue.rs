//! The live Kalshi venue: orders out over one HTTP/1.1 keep-alive REST
//! connection, order state and fills in over the WebSocket `fill` and
//! `user_orders` channels, both on this thread's one `mio` poll for the
//! REST socket (the WebSocket client polls its own, without waiting).
//!
//! What drives an order's state, following the venue's facts
//! (`TRADING-FACTS.md`):
//! - a create's `201` is its ack: the venue's order id is paired with ours
//!   in the `Ack` report, which the gateway journals;
//! - fills come only from the `fill` channel, deduplicated by trade id
//!   (a reconnect may replay them);
//! - cancels and amends are confirmed only by `user_order` updates (their
//!   response bodies are not trusted); a failed item or status is a
//!   `CancelRejected` / `ReplaceRejected` with the venue's code;
//! - a `409 order_already_exists` on a create means the order is already
//!   placed, a 5xx or a lost connection means nobody knows: both report
//!   `OrderUnknown` for reconciliation, never a reject and never a resend;
//! - a `429` is a reject (nothing was placed) with the rate-limit code.
//!
//! Every request carries a signature made ahead by the [`Presigner`]: the
//! create and batched-cancel paths are fixed, and each acked order's amend
//! path is signed once its venue id is known. A request with no fresh
//! signature is signed inline and counted (`inline_signs`).

use super::codes;
use super::reconcile::Phase;
use super::state::{Live, Pending, SEEN_TRADES, State};
use super::wire::{self, BATCH_PATH, CREATE_PATH};
use crate::venue::{Approved, Venue};
use mio::{Events, Poll, Token};
use pt_engine::model::{ClientOrderId, EventKind, ExecReport, Nanos, OrderIntent, RejectCode};
use pt_net::auth::{KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use pt_net::presign::{FixedPath, PresignConfig, Presigned, Presigner};
use pt_net::{HttpConn, HttpTarget, PollOutcome, Pumped, WsClient, WsConfig, WsMessage};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

const REST: Token = Token(1);

/// Reconnect delays: 50 ms doubling to 5 s, with jitter.
fn retry_backoff(seed: u64) -> pt_net::Backoff {
    pt_net::Backoff::new(
        Duration::from_millis(50),
        Duration::from_secs(5),
        pt_net::Jitter::Full,
        seed,
    )
}
/// Fixed-path signatures, by index.
const SIG_CREATE: usize = 0;
pub(super) const SIG_CANCEL: usize = 1;
pub(super) const SIG_FILLS: usize = 2;
pub(super) const SIG_ORDERS: usize = 3;
pub(super) const SIG_AS_OF: usize = 4;
const SIG_GROUPS: usize = 5;

/// How to reach the venue.
#[derive(Clone, Debug)]
pub struct KalshiConfig {
    /// The REST server, resolved.
    pub rest: HttpTarget,
    /// The WebSocket (its path `/trade-api/ws/v2`); its authentication
    /// headers are added at each connect.
    pub ws: WsConfig,
    /// Tickers by [`InstrumentId`].
    pub tickers: Vec<String>,
    /// Signing ahead.
    pub presign: PresignConfig,
    /// Requests pipelined on the REST connection at most.
    pub max_in_flight: usize,
    /// What reconciliation does with orders resting at the venue that are
    /// not ours.
    pub foreign: ForeignOrders,
    /// With `Some((strategies, contracts))`, an order group is created at
    /// connect for each of strategies 1..=strategies with this contracts
    /// limit over Kalshi's rolling 15 s window, and each strategy's orders
    /// are placed in its group: the venue cancels them and refuses more
    /// when the limit is passed, backing up the engine's own kill switch.
    pub order_groups: Option<(u16, u64)>,
}

/// Orders resting at the venue that this engine did not place (or whose
/// journal it does not hold).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForeignOrders {
    /// Cancel them (the default: nothing trades that the engine does not
    /// track).
    #[default]
    Cancel,
    /// Leave them working, counted and reported.
    Leave,
}

/// What an operator reads about the venue edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KalshiCounters {
    /// REST requests written that change the account (creates, cancels,
    /// amends).
    pub writes: u64,
    /// REST reads (reconciliation).
    pub reads: u64,
    /// REST responses read.
    pub responses: u64,
    /// Creates refused by the venue.
    pub rejects: u64,
    /// `429` answers.
    pub rate_limited: u64,
    /// Creates refused here while waiting out a 429.
    pub throttled: u64,
    /// `5xx` answers.
    pub server_errors: u64,
    /// `409 order_already_exists` on a create.
    pub already_placed: u64,
    /// Requests lost with a dropped connection (their orders unknown).
    pub lost_in_flight: u64,
    /// Requests signed on the order thread for want of a fresh signature.
    pub inline_signs: u64,
    /// Fills from the `fill` channel applied.
    pub fills: u64,
    /// Fills seen twice (by trade id) and dropped.
    pub duplicate_fills: u64,
    /// `user_order` updates read.
    pub order_updates: u64,
    /// Cancels and amends of orders the venue edge had already closed.
    pub stale_targets: u64,
    /// Channel messages or REST bodies that could not be read.
    pub bad_messages: u64,
    /// Messages about orders this engine does not know.
    pub foreign: u64,
    /// REST and WebSocket reconnects.
    pub reconnects: u64,
    /// Reconciliations completed.
    pub reconciliations: u64,
    /// Times reconciliation waited for the venue's reads to pass our last
    /// write.
    pub reconcile_waits: u64,
    /// Fills found by reconciliation that the channels had not delivered.
    pub reconciled_fills: u64,
    /// Orders the venue did not list: rejected as never arrived.
    pub never_arrived: u64,
    /// Orders resting at the venue that were not ours.
    pub foreign_seen: u64,
    /// Of those, cancelled.
    pub foreign_cancelled: u64,
    /// Refusals (rejects, refused cancels and amends) by venue code:
    /// index k is code 1000 + k, the last slot every code from 1031 up.
    pub by_code: [u64; 32],
}

/// The live venue; see the module docs.
pub struct KalshiVenue {
    poll: Poll,
    events: Events,
    target: HttpTarget,
    rest: Option<HttpConn>,
    ws_config: WsConfig,
    ws_target: HttpTarget,
    ws: Option<WsClient>,
    subscribed: bool,
    presigner: Presigner,
    max_in_flight: usize,
    next_tag: u64,
    pub(super) body: Vec<u8>,
    pub(super) path: Vec<u8>,
    pub(super) state: State,
    pub(super) reconcile: Phase,
    /// Engine time (ns) before which reconciliation does not start again.
    pub(super) reconcile_not_before: i64,
    pub(super) foreign: ForeignOrders,
    /// Reconnect delays of the REST connection and the channels, and when
    /// each may next be tried (a venue down is retried, not spun on).
    rest_retry: (pt_net::Backoff, std::time::Instant),
    ws_retry: (pt_net::Backoff, std::time::Instant),
    /// Each strategy's order group id, by strategy id (index 0 unused),
    /// once created.
    groups: Vec<Option<String>>,
    /// Market event received → its order's request bytes handed to the
    /// socket (ns): the engine's share of wire-to-wire.
    wire_share: hdrhistogram::Histogram<u64>,
    /// The receive time of the market event behind the create being
    /// written.
    write_started: Nanos,
}

impl core::fmt::Debug for KalshiVenue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KalshiVenue")
            .field("rest", &self.rest)
            .field("ws_open", &self.ws.as_ref().is_some_and(WsClient::is_open))
            .field("counters", &self.state.counters)
            .finish_non_exhaustive()
    }
}

impl KalshiVenue {
    /// Connects (without waiting) and starts the presigning thread.
    pub fn connect(
        config: KalshiConfig,
        signer: Arc<pt_net::auth::Signer>,
    ) -> Result<KalshiVenue, pt_net::NetError> {
        let poll = Poll::new().map_err(|e| pt_net::NetError::Io {
            op: "poll create",
            source: e,
        })?;
        let paths = vec![
            FixedPath {
                method: "POST",
                path: CREATE_PATH.to_owned(),
            },
            FixedPath {
                method: "DELETE",
                path: BATCH_PATH.to_owned(),
            },
            FixedPath {
                method: "GET",
                path: super::reads::FILLS_PATH.to_owned(),
            },
            FixedPath {
                method: "GET",
                path: super::reads::ORDERS_PATH.to_owned(),
            },
            FixedPath {
                method: "GET",
                path: super::reads::AS_OF_PATH.to_owned(),
            },
            FixedPath {
                method: "POST",
                path: super::reads::GROUPS_PATH.to_owned(),
            },
        ];
        let max_orders = config.presign.max_orders;
        let presigner = Presigner::start(signer, paths, config.presign);
        let mut venue = KalshiVenue {
            poll,
            events: Events::with_capacity(16),
            target: config.rest,
            rest: None,
            ws_target: HttpTarget::resolve(
                &config.ws.host,
                config.ws.port,
                config.ws.tls.as_ref(),
            )?,
            ws_config: config.ws,
            ws: None,
            subscribed: false,
            presigner,
            max_in_flight: config.max_in_flight.max(1),
            next_tag: 1,
            body: Vec::with_capacity(4096),
            path: Vec::with_capacity(256),
            state: State {
                tickers: config.tickers,
                orders: HashMap::with_capacity(max_orders),
                by_venue_id: HashMap::with_capacity(max_orders),
                pending: HashMap::with_capacity(config.max_in_flight.max(1) * 2),
                seen: std::collections::HashSet::with_capacity(SEEN_TRADES),
                seen_order: VecDeque::with_capacity(SEEN_TRADES),
                counters: KalshiCounters::default(),
                reports: Vec::with_capacity(64),
                cancels_due: Vec::with_capacity(64),
                now: Nanos(0),
                unknown_seen: false,
                pages: Vec::with_capacity(4),
                foreign: Vec::new(),
                listed: Vec::new(),
                to_sign: Vec::with_capacity(64),
                to_unsign: Vec::with_capacity(64),
                groups_made: Vec::new(),
                last_write_ms: 0,
                subscribed_at_ms: 0,
                throttled_until: 0,
                backoff_ns: 0,
                as_of: None,
            },
            reconcile_not_before: 0,
            reconcile: Phase::Needed,
            foreign: config.foreign,
            groups: Vec::new(),
            rest_retry: (retry_backoff(1), std::time::Instant::now()),
            ws_retry: (retry_backoff(2), std::time::Instant::now()),
            wire_share: pt_engine::pipeline::new_histogram(),
            write_started: Nanos::UNSET,
        };
        venue.reconnect_rest()?;
        venue.reconnect_ws()?;
        if let Some((strategies, contracts)) = config.order_groups {
            venue.groups = vec![None; usize::from(strategies) + 1];
            for strategy in 1..=strategies {
                venue.path.clear();
                venue
                    .path
                    .extend_from_slice(super::reads::GROUPS_PATH.as_bytes());
                venue.body.clear();
                let _ = std::io::Write::write_fmt(
                    &mut venue.body,
                    format_args!("{{\"contracts_limit\":{contracts}}}"),
                );
                let tag = venue.tag(Pending::Group(strategy));
                venue.write(tag, "POST", Some(SIG_GROUPS), None);
            }
        }
        Ok(venue)
    }

    /// The venue edge's counters.
    pub fn counters(&self) -> KalshiCounters {
        let mut c = self.state.counters;
        c.inline_signs = self.presigner.inline();
        c
    }

    /// Whether the REST connection is open and the channels subscribed.
    pub fn ready(&self) -> bool {
        self.rest.as_ref().is_some_and(HttpConn::is_open)
            && self.subscribed
            && self.groups.iter().skip(1).all(Option::is_some)
    }

    /// Market event received → the order's request written to the socket,
    /// for every create (ns).
    pub fn wire_share(&self) -> &hdrhistogram::Histogram<u64> {
        &self.wire_share
    }

    /// Whether the account has been matched against ours since the start
    /// and the last unknown outcome.
    pub fn reconciled(&self) -> bool {
        self.reconcile == Phase::Done
    }

    fn reconnect_rest(&mut self) -> Result<(), pt_net::NetError> {
        if let Some(mut old) = self.rest.take() {
            old.deregister(self.poll.registry());
            self.state.counters.reconnects += 1;
        }
        let conn = HttpConn::connect(
            &self.target,
            self.poll.registry(),
            REST,
            self.max_in_flight,
            1 << 20,
        );
        match conn {
            Ok(c) => self.rest = Some(c),
            Err(e) => {
                self.rest_retry.1 = std::time::Instant::now() + self.rest_retry.0.next_delay();
                return Err(e);
            }
        }
        Ok(())
    }

    /// Drops the REST connection; the next try waits out the backoff.
    fn lose_rest(&mut self) {
        if let Some(mut old) = self.rest.take() {
            old.deregister(self.poll.registry());
        }
        self.state.counters.reconnects += 1;
        self.rest_retry.1 = std::time::Instant::now() + self.rest_retry.0.next_delay();
    }

    /// Reconnects what is down once its delay has passed.
    fn retry_connections(&mut self) {
        let now = std::time::Instant::now();
        if self.rest.is_none() && now >= self.rest_retry.1 {
            let _ = self.reconnect_rest();
        }
        if self.ws.is_none() && now >= self.ws_retry.1 {
            let _ = self.reconnect_ws();
        }
        if self.rest.as_ref().is_some_and(HttpConn::is_open) {
            self.rest_retry.0.reset();
        }
    }

    fn reconnect_ws(&mut self) -> Result<(), pt_net::NetError> {
        if self.ws.take().is_some() {
            self.state.counters.reconnects += 1;
        }
        let mut cfg = self.ws_config.clone();
        let signer = self.presigner.signer();
        cfg.extra_headers = signer
            .headers(pt_net::auth::now_ms(), "GET", pt_net::auth::WS_PATH)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        self.subscribed = false;
        // Resolved at start: a reconnect does no DNS.
        match WsClient::connect_to(&cfg, &self.ws_target) {
            Ok(ws) => self.ws = Some(ws),
            Err(e) => {
                self.ws_retry.1 = std::time::Instant::now() + self.ws_retry.0.next_delay();
                return Err(e);
            }
        }
        Ok(())
    }

    /// Writes one signed request; `fixed` names its presigned path, `None`
    /// for an order's own path (its amend signature, else signed inline).
    pub(super) fn write(
        &mut self,
        tag: u64,
        method: &'static str,
        fixed: Option<usize>,
        sig: Option<Presigned>,
    ) -> bool {
        let now_ms = pt_net::auth::now_ms();
        let presigned = match fixed {
            Some(i) => self.presigner.fixed(i, now_ms).copied(),
            None => sig.filter(|s| s.fresh(now_ms, self.presigner.max_age_ms())),
        };
        let inline;
        let (ts, signature): (&[u8], &[u8]) = match &presigned {
            Some(p) => (p.timestamp(), p.signature()),
            None => {
                self.presigner.note_inline();
                let ts = now_ms.to_string();
                let path = String::from_utf8_lossy(&self.path).into_owned();
                let s = self.presigner.signer().sign(&ts, method, &path);
                inline = (ts, s);
                (inline.0.as_bytes(), inline.1.as_bytes())
            }
        };
        let key = self.presigner.signer().key_id().as_bytes();
        let headers: [(&str, &[u8]); 3] = [
            (KEY_HEADER, key),
            (TIMESTAMP_HEADER, ts),
            (SIGNATURE_HEADER, signature),
        ];
        let Some(conn) = self.rest.as_mut() else {
            return false;
        };
        // The engine's share: from the market event's socket read to the
        // request handed to the socket (the write call itself, a few µs,
        // is left out so that a thread descheduled after its bytes left is
        // not counted as latency they did not have).
        if self.write_started.is_set() {
            let ns = Nanos::now().saturating_since(self.write_started);
            self.wire_share.saturating_record(ns);
            self.write_started = Nanos::UNSET;
        }
        let body = &self.body;
        let ok = conn
            .request(tag, method, &self.path, &headers, |w| {
                w.extend_from_slice(body)
            })
            .is_ok();
        if ok {
            if method == "GET" {
                self.state.counters.reads += 1;
            } else {
                self.state.counters.writes += 1;
                self.state.last_write_ms = now_ms;
            }
        }
        ok
    }

    pub(super) fn tag(&mut self, p: Pending) -> u64 {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.state.pending.insert(tag, p);
        tag
    }

    fn send_new(&mut self, o: &OrderIntent) {
        let id = o.client_order_id;
        if self.state.now.0 < self.state.throttled_until {
            // The venue's bucket was empty a moment ago: refused here,
            // without a request that would only be refused there.
            self.state.counters.throttled += 1;
            self.state.reject(o, super::codes::RATE_LIMITED);
            return;
        }
        let Some(ticker) = self.state.tickers.get(o.header.instrument.0 as usize) else {
            self.state.reject(o, codes::UNSENDABLE);
            return;
        };
        self.body.clear();
        let written = wire::put_new_order(
            &mut self.body,
            &wire::NewOrder {
                ticker,
                client_order_id: id,
                side: o.side,
                qty: o.qty,
                price: o.price,
                time_in_force: o.time_in_force,
                flags: o.order_flags,
                order_group_id: self
                    .groups
                    .get(usize::from(o.strategy.0))
                    .and_then(|g| g.as_deref()),
            },
        );
        if written.is_err() {
            self.state.reject(o, codes::UNSENDABLE);
            return;
        }
        self.path.clear();
        self.path.extend_from_slice(CREATE_PATH.as_bytes());
        self.state.orders.insert(id, Live::new(*o));
        let tag = self.tag(Pending::Create(id));
        self.write_started = o.header.recv_ts;
        if !self.write(tag, "POST", Some(SIG_CREATE), None) {
            self.state.pending.remove(&tag);
            self.state.orders.remove(&id);
            self.state.reject(o, codes::NOT_SENT);
        }
    }

    fn send_cancel(&mut self, request: ClientOrderId, target: ClientOrderId) {
        let Some(live) = self.state.orders.get_mut(&target) else {
            // The edge closed it (filled, cancelled or rejected) and the
            // report is on its way to the gateway; counted, in case not.
            self.state.counters.stale_targets += 1;
            return;
        };
        if !live.acked {
            live.cancel_wanted = Some(request);
            return;
        }
        let id = live.venue_id;
        self.body.clear();
        wire::put_batch_cancel(&mut self.body, [&id[..]]);
        self.path.clear();
        self.path.extend_from_slice(BATCH_PATH.as_bytes());
        let tag = self.tag(Pending::Cancel(target));
        if !self.write(tag, "DELETE", Some(SIG_CANCEL), None) {
            self.state.pending.remove(&tag);
            self.state
                .answer(target, EventKind::CancelRejected, codes::NOT_SENT);
        }
    }

    fn send_amend(&mut self, o: &OrderIntent) {
        let target = o.target;
        let Some(live) = self.state.orders.get(&target).copied() else {
            return;
        };
        let ticker = self
            .state
            .tickers
            .get(live.intent.header.instrument.0 as usize)
            .map_or("", String::as_str);
        self.body.clear();
        if wire::put_amend(&mut self.body, ticker, live.intent.side, o.price, o.qty).is_err() {
            self.state
                .answer(target, EventKind::ReplaceRejected, codes::UNSENDABLE);
            return;
        }
        self.path.clear();
        let mut path = [0u8; pt_net::presign::MAX_PATH];
        let len = wire::order_path_into(&mut path, &live.venue_id, "amend");
        self.path.extend_from_slice(&path[..len]);
        let tag = self.tag(Pending::Amend(target));
        if !self.write(tag, "POST", None, live.amend_sig) {
            self.state.pending.remove(&tag);
            self.state
                .answer(target, EventKind::ReplaceRejected, codes::NOT_SENT);
        }
    }

    /// Asks the housekeeper to keep signed the amend path of each order
    /// whose venue id became known and is still open, and to stop for
    /// each order gone.
    fn update_presigning(&mut self) {
        while let Some(id) = self.state.to_sign.pop() {
            let Some(live) = self.state.orders.get_mut(&id) else {
                continue;
            };
            if live.signing {
                continue;
            }
            let mut path = [0u8; pt_net::presign::MAX_PATH];
            let len = wire::order_path_into(&mut path, &live.venue_id, "amend");
            live.signing = self.presigner.keep_signed(id.raw(), "POST", &path[..len]);
        }
        while let Some(tag) = self.state.to_unsign.pop() {
            self.presigner.forget(tag);
        }
    }

    fn pump_rest(&mut self) {
        let Some(conn) = self.rest.as_mut() else {
            return;
        };
        let state = &mut self.state;
        let outcome = conn.pump(&mut |r| state.on_response(r));
        let lost = match outcome {
            Ok(Pumped::Closed(_)) | Err(_) => true,
            Ok(_) => false,
        };
        if lost {
            // Whatever was in flight has no answer: unknown, for
            // reconciliation; never resent.
            let tags: Vec<u64> = conn.in_flight().collect();
            for tag in tags {
                state.counters.lost_in_flight += 1;
                match state.pending.remove(&tag) {
                    Some(Pending::Create(id) | Pending::Cancel(id) | Pending::Amend(id)) => {
                        state.answer(id, EventKind::OrderUnknown, RejectCode::NONE);
                    }
                    Some(Pending::Read { fills }) => state.pages.push((fills, None, false)),
                    Some(Pending::AsOf) => state.as_of = Some(None),
                    Some(Pending::Group(_)) => state.counters.bad_messages += 1,
                    Some(Pending::Foreign) | None => {}
                }
            }
            self.lose_rest();
        }
    }

    fn pump_ws(&mut self) {
        let Some(ws) = self.ws.as_mut() else {
            return;
        };
        let state = &mut self.state;
        let outcome = ws.poll(Some(Duration::ZERO), &mut |m| {
            let (WsMessage::Text(text) | WsMessage::Binary(text)) = m;
            state.on_channel(text);
        });
        match outcome {
            Ok(PollOutcome::Opened) => {
                let sub =
                    br#"{"id":1,"cmd":"subscribe","params":{"channels":["fill","user_orders"]}}"#;
                self.subscribed = ws.send_text(sub).is_ok();
                self.ws_retry.0.reset();
                self.state.subscribed_at_ms = pt_net::auth::now_ms();
                // What the channels said while they were down is not
                // replayed: read the account again.
                self.state.unknown_seen = true;
            }
            Ok(PollOutcome::Closed { .. }) | Err(_) => {
                self.ws = None;
                self.subscribed = false;
                self.state.counters.reconnects += 1;
                self.ws_retry.1 = std::time::Instant::now() + self.ws_retry.0.next_delay();
            }
            Ok(_) => {}
        }
    }
}

impl Venue for KalshiVenue {
    fn send(&mut self, order: Approved<'_>, now: Nanos, reports: &mut Vec<ExecReport>) {
        self.state.now = now;
        let o = *order.intent();
        match o.header.kind {
            EventKind::OrderNew => self.send_new(&o),
            EventKind::OrderCancel => self.send_cancel(o.client_order_id, o.target),
            EventKind::OrderReplace => self.send_amend(&o),
            _ => {}
        }
        reports.append(&mut self.state.reports);
    }

    fn poll(&mut self, now: Nanos, reports: &mut Vec<ExecReport>) {
        self.state.now = now;
        let _ = self.poll.poll(&mut self.events, Some(Duration::ZERO));
        self.retry_connections();
        self.pump_rest();
        self.pump_ws();
        while let Some((strategy, id)) = self.state.groups_made.pop() {
            if let Some(slot) = self.groups.get_mut(usize::from(strategy)) {
                *slot = Some(id);
            }
        }
        if let Some(as_of) = self.state.as_of.take() {
            self.on_as_of(as_of);
        }
        while let Some((fills, next, ok)) = self.state.pages.pop() {
            self.on_page(fills, next, ok);
        }
        if self.reconcile == Phase::Done && std::mem::take(&mut self.state.unknown_seen) {
            self.reconcile = Phase::Needed;
        }
        self.maybe_reconcile();
        self.update_presigning();
        while let Some((tag, sig)) = self.presigner.take_order() {
            if let Some(id) = ClientOrderId::new(
                pt_engine::model::StrategyId((tag >> 48) as u16),
                tag & ClientOrderId::MAX_COUNTER,
            ) && let Some(live) = self.state.orders.get_mut(&id)
            {
                live.amend_sig = Some(sig);
            }
        }
        // Cancels asked for before their orders' acks go out now.
        while let Some((request, target)) = self.state.cancels_due.pop() {
            self.send_cancel(request, target);
        }
        reports.append(&mut self.state.reports);
    }

    fn connected(&self) -> bool {
        self.ready() && self.reconciled()
    }

    fn resume(&mut self, record: &pt_engine::model::Event) {
        self.state.resume(record);
    }

    fn external_writes(&self) -> u64 {
        self.state.counters.writes
    }
}
