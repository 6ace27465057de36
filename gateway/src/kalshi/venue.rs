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

use super::codes::venue_code;
use super::wire::{self, BATCH_PATH, CREATE_PATH, ORDER_ID_LEN};
use crate::venue::{Approved, Venue};
use mio::{Events, Poll, Token};
use pt_engine::model::{
    ClientOrderId, EventKind, ExecReport, Header, Liquidity, Money, Nanos, OrderIntent, Price, Qty,
    RejectCode,
};
use pt_feed::kalshi::{Msg, decode};
use pt_net::auth::{KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use pt_net::presign::{FixedPath, PresignConfig, Presigned, Presigner};
use pt_net::{HttpConn, HttpTarget, PollOutcome, Pumped, Response, WsClient, WsConfig, WsMessage};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

const REST: Token = Token(1);
/// Fixed-path signatures, by index.
const SIG_CREATE: usize = 0;
const SIG_CANCEL: usize = 1;
/// Trade ids remembered for deduplication.
const SEEN_TRADES: usize = 65_536;

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
}

/// What an operator reads about the venue edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KalshiCounters {
    /// REST requests written.
    pub requests: u64,
    /// REST responses read.
    pub responses: u64,
    /// Creates refused by the venue.
    pub rejects: u64,
    /// `429` answers.
    pub rate_limited: u64,
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
    /// Channel messages or REST bodies that could not be read.
    pub bad_messages: u64,
    /// Messages about orders this engine does not know.
    pub foreign: u64,
    /// REST and WebSocket reconnects.
    pub reconnects: u64,
}

/// What a request in flight was for.
#[derive(Clone, Copy, Debug)]
enum Pending {
    Create(ClientOrderId),
    Cancel(ClientOrderId),
    Amend(ClientOrderId),
}

/// One of our orders as the venue edge knows it.
#[derive(Clone, Copy, Debug)]
struct Live {
    intent: OrderIntent,
    venue_id: [u8; ORDER_ID_LEN],
    acked: bool,
    cum: Qty,
    /// A cancel asked for before the ack: sent with it.
    cancel_wanted: Option<ClientOrderId>,
    /// The venue said canceled with this many filled; reported once the
    /// fills have arrived.
    cancelled_at: Option<Qty>,
    amend_sig: Option<Presigned>,
}

/// Everything but the sockets, so a socket's callback can borrow it.
struct State {
    tickers: Vec<String>,
    orders: HashMap<ClientOrderId, Live>,
    by_venue_id: HashMap<[u8; ORDER_ID_LEN], ClientOrderId>,
    pending: HashMap<u64, Pending>,
    seen: std::collections::HashSet<[u8; 16]>,
    seen_order: VecDeque<[u8; 16]>,
    counters: KalshiCounters,
    reports: Vec<ExecReport>,
    /// (cancel request, order) acked after their cancel was asked for.
    cancels_due: Vec<(ClientOrderId, ClientOrderId)>,
    now: Nanos,
}

/// The live venue; see the module docs.
pub struct KalshiVenue {
    poll: Poll,
    events: Events,
    target: HttpTarget,
    rest: Option<HttpConn>,
    ws_config: WsConfig,
    ws: Option<WsClient>,
    subscribed: bool,
    presigner: Presigner,
    max_in_flight: usize,
    next_tag: u64,
    body: Vec<u8>,
    path: Vec<u8>,
    state: State,
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
        ];
        let max_orders = config.presign.max_orders;
        let presigner = Presigner::start(signer, paths, config.presign);
        let mut venue = KalshiVenue {
            poll,
            events: Events::with_capacity(16),
            target: config.rest,
            rest: None,
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
            },
        };
        venue.reconnect_rest()?;
        venue.reconnect_ws()?;
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
        self.rest.as_ref().is_some_and(HttpConn::is_open) && self.subscribed
    }

    fn reconnect_rest(&mut self) -> Result<(), pt_net::NetError> {
        if let Some(mut old) = self.rest.take() {
            old.deregister(self.poll.registry());
            self.state.counters.reconnects += 1;
        }
        self.rest = Some(HttpConn::connect(
            &self.target,
            self.poll.registry(),
            REST,
            self.max_in_flight,
            1 << 20,
        )?);
        Ok(())
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
        self.ws = Some(WsClient::connect(&cfg)?);
        Ok(())
    }

    /// Writes one signed request; `fixed` names its presigned path, `None`
    /// for an order's own path (its amend signature, else signed inline).
    fn write(
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
        let body = &self.body;
        let ok = conn
            .request(tag, method, &self.path, &headers, |w| {
                w.extend_from_slice(body)
            })
            .is_ok();
        if ok {
            self.state.counters.requests += 1;
        }
        ok
    }

    fn tag(&mut self, p: Pending) -> u64 {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.state.pending.insert(tag, p);
        tag
    }

    fn send_new(&mut self, o: &OrderIntent) {
        let id = o.client_order_id;
        let Some(ticker) = self.state.tickers.get(o.header.instrument.0 as usize) else {
            self.state.reject(o, RejectCode::UNKNOWN_INSTRUMENT);
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
                order_group_id: None,
            },
        );
        if written.is_err() {
            let code = if matches!(written, Err(wire::WireError::Price(_))) {
                RejectCode::BAD_PRICE
            } else {
                RejectCode::BAD_QTY
            };
            self.state.reject(o, code);
            return;
        }
        self.path.clear();
        self.path.extend_from_slice(CREATE_PATH.as_bytes());
        self.state.orders.insert(
            id,
            Live {
                intent: *o,
                venue_id: [0; ORDER_ID_LEN],
                acked: false,
                cum: Qty::ZERO,
                cancel_wanted: None,
                cancelled_at: None,
                amend_sig: None,
            },
        );
        let tag = self.tag(Pending::Create(id));
        if !self.write(tag, "POST", Some(SIG_CREATE), None) {
            self.state.pending.remove(&tag);
            self.state.orders.remove(&id);
            self.state.reject(o, RejectCode::NO_VENUE);
        }
    }

    fn send_cancel(&mut self, request: ClientOrderId, target: ClientOrderId) {
        let Some(live) = self.state.orders.get_mut(&target) else {
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
                .answer(target, EventKind::CancelRejected, RejectCode::NO_VENUE);
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
                .answer(target, EventKind::ReplaceRejected, RejectCode::BAD_PRICE);
            return;
        }
        self.path.clear();
        wire::put_order_path(&mut self.path, &live.venue_id, "amend");
        let tag = self.tag(Pending::Amend(target));
        if !self.write(tag, "POST", None, live.amend_sig) {
            self.state.pending.remove(&tag);
            self.state
                .answer(target, EventKind::ReplaceRejected, RejectCode::NO_VENUE);
        }
    }

    fn pump_rest(&mut self) {
        let Some(conn) = self.rest.as_mut() else {
            return;
        };
        let state = &mut self.state;
        let presigner = &mut self.presigner;
        let outcome = conn.pump(&mut |r| state.on_response(r, presigner));
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
                if let Some(p) = state.pending.remove(&tag) {
                    let (Pending::Create(id) | Pending::Cancel(id) | Pending::Amend(id)) = p;
                    state.answer(id, EventKind::OrderUnknown, RejectCode::NONE);
                }
            }
            let _ = self.reconnect_rest();
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
            }
            Ok(PollOutcome::Closed { .. }) | Err(_) => {
                let _ = self.reconnect_ws();
            }
            Ok(_) => {}
        }
    }
}

impl State {
    fn report(&self, kind: EventKind, o: &OrderIntent) -> ExecReport {
        let mut header = Header::new(kind, o.header.instrument, 0, self.now);
        header.venue = o.header.venue;
        ExecReport {
            header,
            client_order_id: o.client_order_id,
            price: o.price,
            qty: o.qty,
            side: o.side,
            requested_mode: o.requested_mode,
            effective_mode: o.effective_mode,
            ..ExecReport::default()
        }
    }

    fn reject(&mut self, o: &OrderIntent, code: RejectCode) {
        let mut r = self.report(EventKind::Reject, o);
        r.reject_code = code;
        self.reports.push(r);
    }

    /// A report about one of our orders (not a fill).
    fn answer(&mut self, id: ClientOrderId, kind: EventKind, code: RejectCode) {
        let Some(live) = self.orders.get(&id).copied() else {
            return;
        };
        let mut r = self.report(kind, &live.intent);
        r.reject_code = code;
        r.cum_qty = live.cum;
        if live.acked {
            r.venue_ref = uuid16(&live.venue_id);
        }
        self.reports.push(r);
        if kind == EventKind::Reject {
            self.forget(id);
        }
    }

    fn forget(&mut self, id: ClientOrderId) {
        if let Some(live) = self.orders.remove(&id) {
            self.by_venue_id.remove(&live.venue_id);
        }
    }

    fn on_response(&mut self, r: Response<'_>, presigner: &mut Presigner) {
        self.counters.responses += 1;
        let Some(p) = self.pending.remove(&r.tag) else {
            return;
        };
        match p {
            Pending::Create(id) => self.on_create(id, r, presigner),
            Pending::Cancel(id) => {
                if r.status == 200 {
                    let mut failed = None;
                    let parsed = wire::parse_batch(r.body, |item| {
                        if let wire::BatchItem::Failed { error, .. } = item {
                            failed = Some(venue_code(400, error.code));
                        }
                    });
                    if parsed.is_err() {
                        self.counters.bad_messages += 1;
                    }
                    if let Some(code) = failed {
                        self.answer(id, EventKind::CancelRejected, code);
                    }
                    // Success is confirmed by the `user_order` update.
                } else if r.status < 500 {
                    let code = self.refusal(&r);
                    self.answer(id, EventKind::CancelRejected, code);
                } else {
                    self.counters.server_errors += 1;
                }
            }
            Pending::Amend(id) => {
                if r.status >= 300 {
                    let code = self.refusal(&r);
                    self.answer(id, EventKind::ReplaceRejected, code);
                }
            }
        }
    }

    /// Counts a refusal and gives its code.
    fn refusal(&mut self, r: &Response<'_>) -> RejectCode {
        if r.status == 429 {
            self.counters.rate_limited += 1;
        }
        venue_code(r.status, wire::parse_error(r.body).code)
    }

    fn on_create(&mut self, id: ClientOrderId, r: Response<'_>, presigner: &mut Presigner) {
        match r.status {
            200 | 201 => {
                let Ok(ack) = wire::parse_ack(r.body) else {
                    self.counters.bad_messages += 1;
                    self.answer(id, EventKind::OrderUnknown, RejectCode::NONE);
                    return;
                };
                let Some(live) = self.orders.get_mut(&id) else {
                    return;
                };
                let n = ack.order_id.len().min(ORDER_ID_LEN);
                live.venue_id[..n].copy_from_slice(&ack.order_id[..n]);
                live.acked = true;
                let venue_id = live.venue_id;
                let cancel = live.cancel_wanted.take();
                self.by_venue_id.insert(venue_id, id);
                let mut path = [0u8; pt_net::presign::MAX_PATH];
                let len = wire::order_path_into(&mut path, &venue_id, "amend");
                presigner.keep_signed(id.raw(), "POST", &path[..len]);
                self.answer(id, EventKind::Ack, RejectCode::NONE);
                if let Some(request) = cancel {
                    self.cancels_due.push((request, id));
                }
            }
            409 if wire::parse_error(r.body).code == b"order_already_exists" => {
                self.counters.already_placed += 1;
                self.answer(id, EventKind::OrderUnknown, RejectCode::NONE);
            }
            s if s >= 500 => {
                self.counters.server_errors += 1;
                self.answer(id, EventKind::OrderUnknown, RejectCode::NONE);
            }
            _ => {
                self.counters.rejects += 1;
                let code = self.refusal(&r);
                self.answer(id, EventKind::Reject, code);
                presigner.forget(id.raw());
            }
        }
    }

    fn id_of(&self, client_order_id: Option<&str>, order_id: &str) -> Option<ClientOrderId> {
        if let Some(id) = client_order_id.and_then(|c| ClientOrderId::parse(c).ok())
            && self.orders.contains_key(&id)
        {
            return Some(id);
        }
        let key: [u8; ORDER_ID_LEN] = order_id.as_bytes().try_into().ok()?;
        self.by_venue_id.get(&key).copied()
    }

    fn on_channel(&mut self, text: &[u8]) {
        let Ok(env) = decode(text) else {
            self.counters.bad_messages += 1;
            return;
        };
        match env.msg {
            Msg::Fill(f) => {
                let Some(id) = self.id_of(f.client_order_id, f.order_id) else {
                    self.counters.foreign += 1;
                    return;
                };
                let trade = uuid16(f.trade_id.as_bytes());
                if !self.remember(trade) {
                    self.counters.duplicate_fills += 1;
                    return;
                }
                let Some(live) = self.orders.get_mut(&id) else {
                    return;
                };
                live.cum = Qty::from_raw(live.cum.raw().saturating_add(f.count.raw()));
                let intent = live.intent;
                let cum = live.cum;
                let mut r = self.report(EventKind::Fill, &intent);
                r.venue_ref = trade;
                r.price = f.yes_price;
                r.qty = f.count;
                r.cum_qty = cum;
                r.fee = Money::from_raw(f.fee.map_or(0, Price::raw));
                r.liquidity = match f.is_taker {
                    Some(true) => Liquidity::Taker,
                    Some(false) => Liquidity::Maker,
                    None => Liquidity::default(),
                };
                r.header.venue_ts = f.ts;
                self.reports.push(r);
                self.counters.fills += 1;
                self.settle_cancel(id);
            }
            Msg::UserOrder(u) => {
                self.counters.order_updates += 1;
                let Some(id) = self.id_of(u.client_order_id, u.order_id) else {
                    self.counters.foreign += 1;
                    return;
                };
                let Some(live) = self.orders.get_mut(&id) else {
                    return;
                };
                match u.status {
                    "canceled" => {
                        live.cancelled_at = Some(u.fill_count);
                        self.settle_cancel(id);
                    }
                    "resting" => {
                        let total = Qty::from_raw(u.fill_count.raw() + u.remaining_count.raw());
                        if u.yes_price != live.intent.price || total != live.intent.qty {
                            live.intent.price = u.yes_price;
                            live.intent.qty = total;
                            let intent = live.intent;
                            let r = self.report(EventKind::Replaced, &intent);
                            self.reports.push(r);
                        }
                    }
                    // `executed`: the fills complete the order.
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Reports a venue cancel once every fill it counted has arrived.
    fn settle_cancel(&mut self, id: ClientOrderId) {
        let Some(live) = self.orders.get(&id).copied() else {
            return;
        };
        let done_filling = live.cum.raw() >= live.intent.qty.raw();
        match live.cancelled_at {
            Some(filled) if live.cum.raw() >= filled.raw() => {
                self.answer(id, EventKind::Cancelled, RejectCode::NONE);
                self.forget(id);
            }
            _ if done_filling => self.forget(id),
            _ => {}
        }
    }

    /// `false` if `trade` was seen before.
    fn remember(&mut self, trade: [u8; 16]) -> bool {
        if !self.seen.insert(trade) {
            return false;
        }
        if self.seen_order.len() == SEEN_TRADES
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.seen_order.push_back(trade);
        true
    }
}

/// A venue id's 16 bytes: a UUID's 128 bits, or a 128-bit FNV-1a hash of
/// any other text (so any id deduplicates).
pub fn uuid16(text: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let digits = text.iter().filter(|&&b| b != b'-');
    let mut n = 0;
    let mut ok = text.len() == 36;
    for (i, &d) in digits.enumerate() {
        let Some(v) = (d as char).to_digit(16) else {
            ok = false;
            break;
        };
        if i >= 32 {
            ok = false;
            break;
        }
        out[i / 2] |= (v as u8) << if i % 2 == 0 { 4 } else { 0 };
        n += 1;
    }
    if ok && n == 32 {
        return out;
    }
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in text {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    h.to_be_bytes()
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
        self.pump_rest();
        self.pump_ws();
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
        self.rest.as_ref().is_some_and(|c| !c.is_closed())
    }

    fn external_writes(&self) -> u64 {
        self.state.counters.requests
    }
}
