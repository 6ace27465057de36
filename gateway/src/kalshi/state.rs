//! The venue edge's state apart from its sockets: its orders, the
//! requests in flight, the trades seen, and how each REST response and
//! channel message turns into reports.

use super::codes::venue_code;
use super::reads;
use super::venue::KalshiCounters;
use super::wire::{self, ORDER_ID_LEN, uuid16};
use pt_engine::model::{
    ClientOrderId, EventKind, ExecReport, Header, Liquidity, Money, Nanos, OrderIntent, Price, Qty,
    RejectCode,
};
use pt_feed::kalshi::{Msg, decode};
use pt_net::Response;
use pt_net::presign::Presigned;
use std::collections::{HashMap, HashSet, VecDeque};

/// The first and the longest wait after a 429.
const BACKOFF_MIN_NS: i64 = 50_000_000;
const BACKOFF_MAX_NS: i64 = 1_000_000_000;

/// Trade ids remembered for deduplication.
pub(super) const SEEN_TRADES: usize = 65_536;

/// What a request in flight was for.
#[derive(Clone, Copy, Debug)]
pub(super) enum Pending {
    Create(ClientOrderId),
    Cancel(ClientOrderId),
    Amend(ClientOrderId),
    /// A page of fills (`true`) or orders, for reconciliation.
    Read {
        fills: bool,
    },
    /// The cancel of orders found at the venue that are not ours.
    Foreign,
    /// `GET /exchange/user_data_timestamp`, before reconciliation reads.
    AsOf,
    /// Creating strategy `.0`'s order group.
    Group(u16),
}

/// One of our orders as the venue edge knows it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Live {
    pub(super) intent: OrderIntent,
    pub(super) venue_id: [u8; ORDER_ID_LEN],
    pub(super) acked: bool,
    pub(super) cum: Qty,
    /// A cancel asked for before the ack: sent with it.
    pub(super) cancel_wanted: Option<ClientOrderId>,
    /// The venue said canceled with this many filled; reported once the
    /// fills have arrived.
    pub(super) cancelled_at: Option<Qty>,
    pub(super) amend_sig: Option<Presigned>,
    /// The housekeeper was asked to keep its amend path signed.
    pub(super) signing: bool,
}

impl Live {
    pub(super) fn new(intent: OrderIntent) -> Live {
        Live {
            intent,
            venue_id: [0; ORDER_ID_LEN],
            acked: false,
            cum: Qty::ZERO,
            cancel_wanted: None,
            cancelled_at: None,
            amend_sig: None,
            signing: false,
        }
    }
}

/// A page read for reconciliation: fills or orders, the next cursor, and
/// whether it could be read.
pub(super) type Page = (bool, Option<Vec<u8>>, bool);

/// Everything but the sockets, so a socket's callback can borrow it.
pub(super) struct State {
    pub(super) tickers: Vec<String>,
    pub(super) orders: HashMap<ClientOrderId, Live>,
    pub(super) by_venue_id: HashMap<[u8; ORDER_ID_LEN], ClientOrderId>,
    pub(super) pending: HashMap<u64, Pending>,
    pub(super) seen: HashSet<[u8; 16]>,
    pub(super) seen_order: VecDeque<[u8; 16]>,
    pub(super) counters: KalshiCounters,
    pub(super) reports: Vec<ExecReport>,
    /// (cancel request, order) acked after their cancel was asked for.
    pub(super) cancels_due: Vec<(ClientOrderId, ClientOrderId)>,
    pub(super) now: Nanos,
    /// An outcome was unknown since the last reconciliation.
    pub(super) unknown_seen: bool,
    /// Reconciliation pages read during the last pump.
    pub(super) pages: Vec<Page>,
    /// Orders resting at the venue that are not ours.
    pub(super) foreign: Vec<[u8; ORDER_ID_LEN]>,
    /// Our orders the venue listed, with their state there.
    pub(super) listed: Vec<(ClientOrderId, super::reconcile::Listed, Price, Qty, Qty)>,
    /// Orders whose venue id became known (ack, reconciliation, journal):
    /// their amend paths are to be kept signed.
    pub(super) to_sign: Vec<ClientOrderId>,
    /// Orders gone whose amend paths were kept signed (their tags).
    pub(super) to_unsign: Vec<u64>,
    /// The wall time (ms) of our last write to the venue: journaled intents
    /// on resume, requests written since.
    pub(super) last_write_ms: i64,
    /// After a 429, creates wait until this engine time (ns).
    pub(super) throttled_until: i64,
    /// The current wait after a 429 (ns); 0 once a create went through.
    pub(super) backoff_ns: i64,
    /// The wall time (ms) the channels were last subscribed.
    pub(super) subscribed_at_ms: i64,
    /// The answer to the last `user_data_timestamp` request (`Some(None)`:
    /// it could not be read).
    pub(super) as_of: Option<Option<i64>>,
    /// Order groups created during the last pump: (strategy, id).
    pub(super) groups_made: Vec<(u16, String)>,
}

impl State {
    pub(super) fn report(&self, kind: EventKind, o: &OrderIntent) -> ExecReport {
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

    pub(super) fn reject(&mut self, o: &OrderIntent, code: RejectCode) {
        self.count_code(code);
        let mut r = self.report(EventKind::Reject, o);
        r.reject_code = code;
        self.reports.push(r);
    }

    /// Counts a refusal by its venue code (codes above 1031 in the last
    /// slot).
    fn count_code(&mut self, code: RejectCode) {
        if code.0 >= RejectCode::VENUE.0 {
            let k = usize::from(code.0 - RejectCode::VENUE.0).min(31);
            self.counters.by_code[k] += 1;
        }
    }

    /// A report about one of our orders (not a fill).
    pub(super) fn answer(&mut self, id: ClientOrderId, kind: EventKind, code: RejectCode) {
        let Some(live) = self.orders.get(&id).copied() else {
            return;
        };
        self.count_code(code);
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
        if kind == EventKind::OrderUnknown {
            self.unknown_seen = true;
        }
    }

    pub(super) fn forget(&mut self, id: ClientOrderId) {
        if let Some(live) = self.orders.remove(&id) {
            self.by_venue_id.remove(&live.venue_id);
            if live.signing {
                self.to_unsign.push(id.raw());
            }
        }
    }

    pub(super) fn on_response(&mut self, r: Response<'_>) {
        self.counters.responses += 1;
        let Some(p) = self.pending.remove(&r.tag) else {
            return;
        };
        let bad_before = self.counters.bad_messages;
        match p {
            Pending::Create(id) => self.on_create(id, r),
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
            Pending::Read { fills } => {
                let page = if r.status != 200 {
                    None
                } else if fills {
                    Some(self.on_fills_page(r.body))
                } else {
                    Some(self.on_orders_page(r.body))
                };
                let ok = page.is_some() && self.counters.bad_messages == bad_before;
                self.pages.push((fills, page.flatten(), ok));
            }
            Pending::Foreign => {}
            Pending::Group(strategy) => match (r.status, reads::parse_group_id(r.body)) {
                (200 | 201, Some(id)) => self
                    .groups_made
                    .push((strategy, String::from_utf8_lossy(id).into_owned())),
                _ => self.counters.bad_messages += 1,
            },
            Pending::AsOf => {
                let as_of = (r.status == 200)
                    .then(|| reads::parse_as_of(r.body))
                    .flatten();
                self.as_of = Some(as_of);
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
    pub(super) fn refusal(&mut self, r: &Response<'_>) -> RejectCode {
        if r.status == 429 {
            self.counters.rate_limited += 1;
            // No Retry-After: wait for the venue's bucket to refill, longer
            // each time it is still empty (50 ms doubling to 1 s).
            self.backoff_ns = (self.backoff_ns * 2).clamp(BACKOFF_MIN_NS, BACKOFF_MAX_NS);
            self.throttled_until = self.now.0.saturating_add(self.backoff_ns);
        }
        venue_code(r.status, wire::parse_error(r.body).code)
    }

    pub(super) fn on_create(&mut self, id: ClientOrderId, r: Response<'_>) {
        match r.status {
            200 | 201 => {
                self.backoff_ns = 0;
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
                self.to_sign.push(id);
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
            }
        }
    }

    pub(super) fn id_of(
        &self,
        client_order_id: Option<&str>,
        order_id: &str,
    ) -> Option<ClientOrderId> {
        if let Some(id) = client_order_id.and_then(|c| ClientOrderId::parse(c).ok())
            && self.orders.contains_key(&id)
        {
            return Some(id);
        }
        let key: [u8; ORDER_ID_LEN] = order_id.as_bytes().try_into().ok()?;
        self.by_venue_id.get(&key).copied()
    }

    pub(super) fn on_channel(&mut self, text: &[u8]) {
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
    pub(super) fn settle_cancel(&mut self, id: ClientOrderId) {
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
    pub(super) fn remember(&mut self, trade: [u8; 16]) -> bool {
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
