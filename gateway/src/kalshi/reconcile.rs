//! Reconciliation: after a start (the venue edge rebuilt from the orders
//! journal by [`State::resume`]) and after any unknown outcome, the venue's
//! account is read and matched against ours before a new live order is
//! accepted ([`crate::Venue::connected`] is false meanwhile).
//!
//! 1. `GET /portfolio/orders`, every page: each of our orders gets its
//!    venue id (also one whose ack was never journaled) and its state at
//!    the venue is kept for step 3; an order resting at the venue that is
//!    not ours (placed elsewhere, or with an id this journal does not hold)
//!    is counted and, unless configured to be left ([`ForeignOrders`]),
//!    cancelled.
//! 2. `GET /portfolio/fills`, every page: a trade of one of our orders
//!    (matched by the venue's order id, as REST fills no longer carry our
//!    client id) not yet booked is reported as a fill.
//! 3. Each listed order takes the venue's state: an `OrderStatus` for a
//!    working one, `Cancelled` for a cancelled one (its fills booked in
//!    step 2). Our orders the venue does not list at all never reached it:
//!    they are rejected with [`NOT_AT_VENUE`].
//!
//! Before step 1 it asks `GET /exchange/user_data_timestamp` until the
//! venue's reads are later than our last write (journaled before a restart,
//! or written since) and than the channels' subscription, since the venue's
//! reads lag the exchange: an order written just before a crash would
//! otherwise look never arrived, and a fill made between the reads' copy
//! and the subscription would be in neither.

use super::codes::NOT_AT_VENUE;
use super::reads::{self, AS_OF_PATH, FILLS_PATH, ORDERS_PATH};
use super::state::{Live, Pending, State};
use super::venue::{ForeignOrders, KalshiVenue};
use super::wire::{self, BATCH_PATH, uuid_text, uuid16};
use pt_engine::model::{ClientOrderId, Event, EventKind, Liquidity, Mode, Qty};

/// How long to wait before asking again whether the venue's reads have
/// caught up with our last write.
const AS_OF_RETRY_NS: i64 = 20_000_000;

/// Where reconciliation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Wanted; starts once the connections are up.
    Needed,
    /// Reading pages.
    Reading,
    /// Our state matches the venue's.
    Done,
}

impl State {
    /// Rebuilds the venue edge's tables from one orders-journal record.
    pub(super) fn resume(&mut self, record: &Event) {
        match record {
            Event::Intent(i) if i.effective_mode == Mode::Live => {
                // Sent just after the market event it answered, at most.
                let sent_ms = i.header.recv_ts.0.saturating_add(999_999) / 1_000_000;
                self.last_write_ms = self.last_write_ms.max(sent_ms);
                if i.header.kind == EventKind::OrderNew {
                    self.orders.insert(i.client_order_id, Live::new(*i));
                }
            }
            Event::Exec(r) if r.effective_mode == Mode::Live => {
                let id = r.client_order_id;
                match r.header.kind {
                    EventKind::Ack | EventKind::OrderStatus => {
                        if let (Some(live), Some(v)) =
                            (self.orders.get_mut(&id), r.venue_order_id())
                        {
                            live.venue_id = uuid_text(&v);
                            if !live.acked {
                                self.to_sign.push(id);
                            }
                            live.acked = true;
                            self.by_venue_id.insert(live.venue_id, id);
                        }
                    }
                    EventKind::Fill => {
                        if let Some(t) = r.trade_id() {
                            self.remember(t);
                        }
                        if let Some(live) = self.orders.get_mut(&id) {
                            live.cum = r.cum_qty;
                        }
                    }
                    EventKind::Replaced => {
                        if let Some(live) = self.orders.get_mut(&id) {
                            if r.price.raw() > 0 {
                                live.intent.price = r.price;
                            }
                            if r.qty.raw() > 0 {
                                live.intent.qty = r.qty;
                            }
                        }
                    }
                    EventKind::Reject | EventKind::Cancelled | EventKind::Expired => {
                        self.forget(id);
                    }
                    _ => {}
                }
                if let Some(live) = self.orders.get(&id)
                    && live.cum.raw() >= live.intent.qty.raw()
                {
                    self.forget(id);
                }
            }
            _ => {}
        }
    }

    fn live_id(&self, order_id: &[u8]) -> Option<ClientOrderId> {
        let key: [u8; wire::ORDER_ID_LEN] = order_id.try_into().ok()?;
        self.by_venue_id.get(&key).copied()
    }

    /// One page of the account's fills; the cursor of the next.
    pub(super) fn on_fills_page(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        let mut fills = Vec::new();
        let cursor = reads::parse_fills(body, |f| {
            fills.push((
                uuid16(f.trade_id),
                self.live_id(f.order_id),
                f.count,
                f.price,
                f.is_taker,
                f.fee,
            ));
        });
        let cursor = match cursor {
            Ok(c) => c.to_vec(),
            Err(_) => {
                self.counters.bad_messages += 1;
                return None;
            }
        };
        for (trade, id, count, price, taker, fee) in fills {
            let Some(id) = id else { continue };
            if !self.remember(trade) {
                continue;
            }
            let Some(live) = self.orders.get_mut(&id) else {
                continue;
            };
            live.cum = Qty::from_raw(live.cum.raw().saturating_add(count.raw()));
            let (intent, cum) = (live.intent, live.cum);
            let mut r = self.report(EventKind::Fill, &intent);
            r.venue_ref = trade;
            r.price = price;
            r.qty = count;
            r.cum_qty = cum;
            r.fee = fee;
            r.liquidity = if taker {
                Liquidity::Taker
            } else {
                Liquidity::Maker
            };
            self.reports.push(r);
            self.counters.reconciled_fills += 1;
        }
        (!cursor.is_empty()).then_some(cursor)
    }

    /// One page of the account's orders; the cursor of the next.
    pub(super) fn on_orders_page(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        let mut seen = Vec::new();
        let cursor = reads::parse_orders(body, |o| {
            let ours = std::str::from_utf8(o.client_order_id)
                .ok()
                .and_then(|c| ClientOrderId::parse(c).ok());
            let mut venue_id = [0u8; wire::ORDER_ID_LEN];
            let n = o.order_id.len().min(venue_id.len());
            venue_id[..n].copy_from_slice(&o.order_id[..n]);
            seen.push((
                ours,
                venue_id,
                o.status.to_vec(),
                o.price,
                o.filled,
                o.remaining,
            ));
        });
        let cursor = match cursor {
            Ok(c) => c.to_vec(),
            Err(_) => {
                self.counters.bad_messages += 1;
                return None;
            }
        };
        for (ours, venue_id, status, price, filled, remaining) in seen {
            let mine = ours.filter(|id| self.orders.contains_key(id));
            let Some(id) = mine else {
                if status == b"resting" {
                    self.foreign.push(venue_id);
                }
                continue;
            };
            let Some(live) = self.orders.get_mut(&id) else {
                continue;
            };
            live.venue_id = venue_id;
            if !live.acked {
                self.to_sign.push(id);
            }
            live.acked = true;
            self.by_venue_id.insert(venue_id, id);
            let status = match status.as_slice() {
                b"resting" => Listed::Resting,
                b"canceled" => Listed::Canceled,
                _ => Listed::Executed,
            };
            self.listed.push((id, status, price, filled, remaining));
        }
        (!cursor.is_empty()).then_some(cursor)
    }

    /// After the last page: each listed order takes the venue's state, and
    /// our orders the venue does not list never reached it.
    pub(super) fn finish(&mut self) {
        let listed = std::mem::take(&mut self.listed);
        for &(id, status, price, filled, remaining) in &listed {
            let Some(live) = self.orders.get_mut(&id) else {
                continue;
            };
            match status {
                Listed::Resting => {
                    live.intent.price = price;
                    live.intent.qty = Qty::from_raw(filled.raw() + remaining.raw());
                    // The fills booked (journaled, or read just now, which
                    // may be later than the listing) are the count; a
                    // status never takes a booked fill back.
                    let (intent, venue_id, cum) = (live.intent, live.venue_id, live.cum);
                    if cum.raw() >= intent.qty.raw() {
                        self.settle_cancel(id);
                        continue;
                    }
                    let mut r = self.report(EventKind::OrderStatus, &intent);
                    r.cum_qty = cum;
                    r.venue_ref = uuid16(&venue_id);
                    self.reports.push(r);
                }
                Listed::Canceled => {
                    live.cancelled_at = Some(filled);
                    self.settle_cancel(id);
                }
                Listed::Executed => self.settle_cancel(id),
            }
        }
        let missing: Vec<ClientOrderId> = self
            .orders
            .keys()
            .filter(|id| !listed.iter().any(|l| l.0 == **id))
            .copied()
            .collect();
        for id in missing {
            self.answer(id, EventKind::Reject, NOT_AT_VENUE);
            self.counters.never_arrived += 1;
        }
        self.counters.reconciliations += 1;
    }
}

/// An order's state as the venue lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Listed {
    Resting,
    Canceled,
    Executed,
}

impl KalshiVenue {
    /// Starts reading the account when reconciliation is wanted and the
    /// connections are up.
    pub(super) fn maybe_reconcile(&mut self) {
        if self.reconcile != Phase::Needed || !self.ready() {
            return;
        }
        if self
            .state
            .pending
            .values()
            .any(|p| !matches!(p, Pending::Read { .. } | Pending::AsOf))
        {
            // Answers still due; their outcome comes first.
            return;
        }
        if self.state.now.0 < self.reconcile_not_before {
            return;
        }
        self.reconcile = Phase::Reading;
        // What was unknown until now, this round settles.
        self.state.unknown_seen = false;
        // First: are the venue's reads past our last write?
        self.path.clear();
        self.path.extend_from_slice(AS_OF_PATH.as_bytes());
        self.body.clear();
        let tag = self.tag(Pending::AsOf);
        if !self.write(tag, "GET", Some(super::venue::SIG_AS_OF), None) {
            self.state.pending.remove(&tag);
            self.reconcile = Phase::Needed;
        }
    }

    /// The venue said as of when its account reads are: read them once
    /// they are later than our last write, else ask again shortly.
    pub(super) fn on_as_of(&mut self, as_of: Option<i64>) {
        match as_of {
            // Later than our last write and than the channels' subscription:
            // what happened before is in the reads, what after on the channels.
            Some(at) if at > self.state.last_write_ms.max(self.state.subscribed_at_ms) => {
                self.read(false, Vec::new());
            }
            _ => {
                self.state.counters.reconcile_waits += 1;
                self.reconcile = Phase::Needed;
                self.reconcile_not_before = self.state.now.0.saturating_add(AS_OF_RETRY_NS);
            }
        }
    }

    /// Requests one page of fills (`fills`) or orders after `cursor`.
    pub(super) fn read(&mut self, fills: bool, cursor: Vec<u8>) {
        let base = if fills { FILLS_PATH } else { ORDERS_PATH };
        self.path.clear();
        self.path.extend_from_slice(base.as_bytes());
        self.path.extend_from_slice(b"?limit=200");
        if !cursor.is_empty() {
            self.path.extend_from_slice(b"&cursor=");
            self.path.extend_from_slice(&cursor);
        }
        self.body.clear();
        let tag = self.tag(Pending::Read { fills });
        let sig = if fills {
            super::venue::SIG_FILLS
        } else {
            super::venue::SIG_ORDERS
        };
        if !self.write(tag, "GET", Some(sig), None) {
            self.state.pending.remove(&tag);
            self.reconcile = Phase::Needed;
        }
    }

    /// A page arrived: the next page, the next read, or the end.
    pub(super) fn on_page(&mut self, fills: bool, next: Option<Vec<u8>>, ok: bool) {
        if !ok {
            // Read again from the start once the venue answers.
            self.reconcile = Phase::Needed;
            return;
        }
        match (fills, next) {
            (_, Some(cursor)) => self.read(fills, cursor),
            (false, None) => self.read(true, Vec::new()),
            (true, None) => {
                self.state.finish();
                let foreign = std::mem::take(&mut self.state.foreign);
                self.state.counters.foreign_seen += foreign.len() as u64;
                if !foreign.is_empty() && self.foreign == ForeignOrders::Cancel {
                    self.state.counters.foreign_cancelled += foreign.len() as u64;
                    self.body.clear();
                    wire::put_batch_cancel(&mut self.body, foreign.iter().map(|id| &id[..]));
                    self.path.clear();
                    self.path.extend_from_slice(BATCH_PATH.as_bytes());
                    let tag = self.tag(Pending::Read { fills: false });
                    self.state.pending.insert(tag, Pending::Foreign);
                    let _ = self.write(tag, "DELETE", Some(super::venue::SIG_CANCEL), None);
                }
                self.reconcile = Phase::Done;
            }
        }
    }
}
