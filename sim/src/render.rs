//! The exchange's state and events in Kalshi's JSON shapes: REST bodies
//! (Trade API v2, fixed-point fields) and WebSocket v2 messages.
//!
//! Field names follow the published specs. Kalshi removed the integer cent
//! and count fields from responses in March 2026; [`Wire::legacy`] adds them
//! back (as the March 2026 captures had both) for clients of old recordings
//! and for validating against the AsyncAPI 2.0.0 spec, which still lists them
//! as required.

use crate::exchange::{
    BookSide, BookView, Fill, MarketSpec, MarketStats, Order, OrderStatus, Outcome, Position,
    Trade, UserId,
};
use crate::wire::{count, dollars, fee, price, rfc3339};
use pt_engine::model::{Price, Qty};
use serde_json::{Map, Value, json};

/// Which of Kalshi's formats to speak.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wire {
    /// Also send the legacy integer-cent and integer-count fields.
    pub legacy: bool,
}

/// A deterministic UUID-shaped id for a user (Kalshi's `user_id`).
pub fn user_uuid(user: UserId) -> String {
    format!("00000000-0000-4000-8000-{user:012x}")
}

/// A deterministic UUID-shaped id for a market (Kalshi's `market_id`).
pub fn market_uuid(ticker: &str) -> String {
    // FNV-1a over the ticker, spread over the 12 + 4 hex digits we vary.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in ticker.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h >> 4) & 0xfff,
        h & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

/// Whole cents of a price, clamped to Kalshi's legacy 1..=99 range.
fn legacy_cents(p: Price) -> i64 {
    (p.raw() / 1_000_000).clamp(1, 99)
}

/// Whole contracts of a count (legacy integer fields).
fn legacy_count(q: Qty) -> i64 {
    q.raw() / 100_000_000
}

fn one_minus(p: Price) -> Price {
    Price::from_raw(Price::ONE.raw() - p.raw())
}

fn outcome_side(side: BookSide) -> &'static str {
    match side {
        BookSide::Bid => "yes",
        BookSide::Ask => "no",
    }
}

fn book_side(side: BookSide) -> &'static str {
    match side {
        BookSide::Bid => "bid",
        BookSide::Ask => "ask",
    }
}

fn status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Resting => "resting",
        OrderStatus::Canceled => "canceled",
        OrderStatus::Executed => "executed",
    }
}

/// `GET /markets` item.
pub fn market(spec: &MarketSpec, stats: &MarketStats, now_ms: i64) -> Value {
    let bid = stats.best_bid.as_ref().map(|l| l.price);
    let ask = stats.best_ask.as_ref().map(|l| l.price);
    let zero = Price::ZERO;
    let status = match (&stats.outcome, spec.close_time_ms <= now_ms) {
        (Some(_), _) => "finalized",
        (None, true) => "closed",
        (None, false) => "active",
    };
    let ranges: Vec<Value> = spec
        .grid
        .ranges()
        .iter()
        .map(|r| json!({"start": price(r.start), "end": price(r.end), "step": price(r.step)}))
        .collect();
    let result = match stats.outcome {
        Some(Outcome::Yes) => "yes",
        Some(Outcome::No) => "no",
        None => "",
    };
    let open_ms = spec.close_time_ms.min(now_ms) - 86_400_000;
    json!({
        "ticker": spec.ticker,
        "event_ticker": spec.event_ticker,
        "market_type": "binary",
        "title": spec.title,
        "subtitle": "",
        "yes_sub_title": spec.title,
        "no_sub_title": spec.title,
        "created_time": rfc3339(open_ms),
        "updated_time": rfc3339(open_ms),
        "open_time": rfc3339(open_ms),
        "close_time": rfc3339(spec.close_time_ms),
        "expiration_time": rfc3339(spec.close_time_ms),
        "latest_expiration_time": rfc3339(spec.close_time_ms),
        "settlement_timer_seconds": 0,
        "status": status,
        "notional_value_dollars": dollars(Price::ONE.raw()),
        "yes_bid_dollars": price(bid.unwrap_or(zero)),
        "yes_ask_dollars": price(ask.unwrap_or(Price::ONE)),
        "no_bid_dollars": price(ask.map(one_minus).unwrap_or(zero)),
        "no_ask_dollars": price(bid.map(one_minus).unwrap_or(Price::ONE)),
        "yes_bid_size_fp": count(stats.best_bid.as_ref().map(|l| l.count).unwrap_or(Qty::ZERO)),
        "yes_ask_size_fp": count(stats.best_ask.as_ref().map(|l| l.count).unwrap_or(Qty::ZERO)),
        "last_price_dollars": price(stats.last_price.unwrap_or(zero)),
        "previous_yes_bid_dollars": price(zero),
        "previous_yes_ask_dollars": price(zero),
        "previous_price_dollars": price(zero),
        "volume_fp": count(stats.volume),
        "volume_24h_fp": count(stats.volume),
        "liquidity_dollars": dollars(0),
        "open_interest_fp": count(stats.open_interest),
        "result": result,
        "can_close_early": false,
        "fractional_trading_enabled": true,
        "expiration_value": "",
        "rules_primary": format!("Resolves YES if {} (simulated market).", spec.title),
        "rules_secondary": "",
        "price_level_structure": "linear_cent",
        "price_ranges": ranges,
        "exchange_index": 0,
    })
}

/// `GET /markets/{ticker}/orderbook`: YES bids and NO bids (a YES ask at p
/// is a NO bid at 1 − p), each ascending, so the best bid is the last entry.
pub fn orderbook(book: &BookView) -> Value {
    let (yes, no) = book_sides(book, false);
    json!({"orderbook_fp": {"yes_dollars": yes, "no_dollars": no}})
}

/// The two bid ladders, ascending by price: YES bids, and NO bids (at NO
/// prices unless `use_yes_price`).
fn bid_ladders(book: &BookView, use_yes_price: bool) -> [Vec<(Price, Qty)>; 2] {
    let mut yes: Vec<(Price, Qty)> = book.bids.iter().map(|l| (l.price, l.count)).collect();
    let mut no: Vec<(Price, Qty)> = book
        .asks
        .iter()
        .map(|l| {
            let p = if use_yes_price {
                l.price
            } else {
                one_minus(l.price)
            };
            (p, l.count)
        })
        .collect();
    yes.sort_by_key(|l| l.0);
    no.sort_by_key(|l| l.0);
    [yes, no]
}

/// Levels as `[["price","count"], ...]`.
fn fixed_levels(levels: &[(Price, Qty)]) -> Vec<Value> {
    levels
        .iter()
        .map(|(p, q)| json!([price(*p), count(*q)]))
        .collect()
}

/// The two bid ladders as `[["price","count"], ...]`, ascending by the
/// printed price. NO levels are at NO prices unless `use_yes_price`.
pub fn book_sides(book: &BookView, use_yes_price: bool) -> (Vec<Value>, Vec<Value>) {
    let [yes, no] = bid_ladders(book, use_yes_price);
    (fixed_levels(&yes), fixed_levels(&no))
}

/// `Order` as `GET /portfolio/orders` returns it.
pub fn order(o: &Order) -> Value {
    let mut v = json!({
        "order_id": o.order_id,
        "user_id": user_uuid(o.user),
        "client_order_id": o.client_order_id.clone().unwrap_or_default(),
        "ticker": o.ticker,
        "outcome_side": outcome_side(o.side),
        "book_side": book_side(o.side),
        "side": "yes",
        "action": if o.side == BookSide::Bid { "buy" } else { "sell" },
        "type": "limit",
        "status": status(o.status),
        "yes_price_dollars": price(o.price),
        "no_price_dollars": price(one_minus(o.price)),
        "fill_count_fp": count(o.fill_count),
        "remaining_count_fp": count(o.remaining_count),
        "initial_count_fp": count(o.initial_count),
        "taker_fees_dollars": dollars(o.taker_fees),
        "maker_fees_dollars": dollars(o.maker_fees),
        "taker_fill_cost_dollars": dollars(o.taker_fill_cost),
        "maker_fill_cost_dollars": dollars(o.maker_fill_cost),
        "created_time": rfc3339(o.created_ms),
        "last_update_time": rfc3339(o.last_update_ms),
        "self_trade_prevention_type": stp(o),
        "cancel_order_on_pause": o.cancel_order_on_pause,
        "subaccount_number": 0,
        "exchange_index": 0,
    });
    if let Some(exp) = o.expiration_ts {
        v["expiration_time"] = Value::String(rfc3339(exp.saturating_mul(1000)));
    }
    v
}

fn stp(o: &Order) -> &'static str {
    match o.self_trade_prevention {
        crate::exchange::SelfTradePrevention::TakerAtCross => "taker_at_cross",
        crate::exchange::SelfTradePrevention::Maker => "maker",
    }
}

/// `Fill` as `GET /portfolio/fills` returns it.
pub fn fill(f: &Fill) -> Value {
    json!({
        "fill_id": f.fill_id,
        "trade_id": f.trade_id,
        "order_id": f.order_id,
        "ticker": f.ticker,
        "market_ticker": f.ticker,
        "outcome_side": outcome_side(f.side),
        "book_side": book_side(f.side),
        "side": "yes",
        "action": if f.side == BookSide::Bid { "buy" } else { "sell" },
        "count_fp": count(f.count),
        "yes_price_dollars": price(f.yes_price),
        "no_price_dollars": price(one_minus(f.yes_price)),
        "is_taker": f.is_taker,
        "fee_cost": dollars(f.fee),
        "created_time": rfc3339(f.ts_ms),
        "ts": f.ts_ms / 1000,
        "subaccount_number": 0,
        "exchange_index": 0,
    })
}

/// `MarketPosition` as `GET /portfolio/positions` returns it.
pub fn position(ticker: &str, p: &Position) -> Value {
    json!({
        "ticker": ticker,
        "exchange_index": 0,
        "total_traded_dollars": dollars(p.total_traded),
        "position_fp": count(p.position),
        "market_exposure_dollars": dollars(p.market_exposure),
        "realized_pnl_dollars": dollars(p.realized_pnl),
        "fees_paid_dollars": dollars(p.fees_paid),
        "last_updated_ts": rfc3339(p.last_updated_ms),
    })
}

/// The V2 order-entry response for an order after placement or amend.
pub fn order_ack(o: &Order, now_ms: i64) -> Value {
    let mut v = json!({
        "order_id": o.order_id,
        "fill_count": count(o.fill_count),
        "remaining_count": count(o.remaining_count),
        "ts_ms": now_ms,
    });
    if let Some(id) = &o.client_order_id {
        v["client_order_id"] = Value::String(id.clone());
    }
    if o.fill_count.raw() > 0 {
        // Average price per contract filled, and fee per contract, in dollars.
        let filled = i128::from(o.fill_count.raw());
        let cost = i128::from(o.taker_fill_cost + o.maker_fill_cost);
        let fees = i128::from(o.taker_fees + o.maker_fees);
        let per = |x: i128| (x * 100_000_000 / filled) as i64;
        let avg_cost = per(cost);
        // Fill cost is the cost of the leg bought; the YES price of an ask
        // fill is one minus it.
        let avg_price = if o.side == BookSide::Bid {
            avg_cost
        } else {
            Price::ONE.raw() - avg_cost
        };
        v["average_fill_price"] = Value::String(dollars(round_to_micro(avg_price)));
        v["average_fee_paid"] = Value::String(dollars(round_to_micro(per(fees))));
    }
    v
}

fn round_to_micro(raw: i64) -> i64 {
    (raw + 50) / 100 * 100
}

/// A WebSocket message `{"type", "sid", "seq"?, "msg"}`.
pub fn ws(kind: &str, sid: u64, seq: Option<u64>, msg: Value) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(kind.into()));
    m.insert("sid".into(), json!(sid));
    if let Some(seq) = seq {
        m.insert("seq".into(), json!(seq));
    }
    m.insert("msg".into(), msg);
    Value::Object(m)
}

/// `orderbook_snapshot` body. A side with no levels is left out, as Kalshi does.
pub fn snapshot_msg(ticker: &str, book: &BookView, use_yes_price: bool, wire: Wire) -> Value {
    let ladders = bid_ladders(book, use_yes_price);
    let mut m = Map::new();
    m.insert("market_ticker".into(), json!(ticker));
    m.insert("market_id".into(), json!(market_uuid(ticker)));
    for (levels, legacy_key, key) in [
        (&ladders[0], "yes", "yes_dollars_fp"),
        (&ladders[1], "no", "no_dollars_fp"),
    ] {
        if levels.is_empty() {
            continue;
        }
        if wire.legacy {
            let cents: Vec<Value> = levels
                .iter()
                .map(|(p, q)| json!([legacy_cents(*p), legacy_count(*q)]))
                .collect();
            m.insert(legacy_key.into(), json!(cents));
        }
        m.insert(key.into(), json!(fixed_levels(levels)));
    }
    Value::Object(m)
}

/// `orderbook_delta` body for a change of `delta` on the book's `side` at YES
/// price `p`. A YES ask is reported on the NO side.
#[allow(clippy::too_many_arguments)]
pub fn delta_msg(
    ticker: &str,
    side: BookSide,
    p: Price,
    delta: Qty,
    own_client_order_id: Option<&str>,
    ts_ms: i64,
    use_yes_price: bool,
    wire: Wire,
) -> Value {
    let (side_name, shown) = match side {
        BookSide::Bid => ("yes", p),
        BookSide::Ask => ("no", if use_yes_price { p } else { one_minus(p) }),
    };
    let mut v = json!({
        "market_ticker": ticker,
        "market_id": market_uuid(ticker),
        "price_dollars": price(shown),
        "delta_fp": count(delta),
        "side": side_name,
        "ts": rfc3339(ts_ms),
        "ts_ms": ts_ms,
    });
    if wire.legacy {
        v["price"] = json!(legacy_cents(shown));
        v["delta"] = json!(legacy_count(delta));
    }
    if let Some(id) = own_client_order_id {
        v["client_order_id"] = json!(id);
        v["subaccount"] = json!(0);
    }
    v
}

/// `trade` body.
pub fn trade_msg(t: &Trade, wire: Wire) -> Value {
    let taker = outcome_side(t.taker_side);
    let mut v = json!({
        "trade_id": t.trade_id,
        "market_ticker": t.ticker,
        "yes_price_dollars": price(t.yes_price),
        "no_price_dollars": price(one_minus(t.yes_price)),
        "count_fp": count(t.count),
        "taker_side": taker,
        "taker_outcome_side": taker,
        "taker_book_side": book_side(t.taker_side),
        "is_block_trade": false,
        "ts": t.ts_ms / 1000,
        "ts_ms": t.ts_ms,
    });
    if wire.legacy {
        v["yes_price"] = json!(legacy_cents(t.yes_price));
        v["no_price"] = json!(legacy_cents(one_minus(t.yes_price)));
        v["count"] = json!(legacy_count(t.count).max(1));
    }
    v
}

/// `ticker` body from a market's current figures.
pub fn ticker_msg(ticker: &str, stats: &MarketStats, ts_ms: i64, wire: Wire) -> Value {
    let last = stats.last_price.unwrap_or(Price::ZERO);
    let bid = stats.best_bid.as_ref();
    let ask = stats.best_ask.as_ref();
    let bid_p = bid.map(|l| l.price).unwrap_or(Price::ZERO);
    let ask_p = ask.map(|l| l.price).unwrap_or(Price::ONE);
    let dollar_volume = stats.volume.raw() / 200_000_000;
    let dollar_oi = stats.open_interest.raw() / 200_000_000;
    let mut v = json!({
        "market_ticker": ticker,
        "market_id": market_uuid(ticker),
        "price_dollars": price(last),
        "yes_bid_dollars": price(bid_p),
        "yes_ask_dollars": price(ask_p),
        "yes_bid_size_fp": count(bid.map(|l| l.count).unwrap_or(Qty::ZERO)),
        "yes_ask_size_fp": count(ask.map(|l| l.count).unwrap_or(Qty::ZERO)),
        "volume_fp": count(stats.volume),
        "open_interest_fp": count(stats.open_interest),
        "dollar_volume": dollar_volume,
        "dollar_open_interest": dollar_oi,
        "ts": ts_ms / 1000,
        "ts_ms": ts_ms,
        "time": rfc3339(ts_ms),
    });
    if wire.legacy {
        v["price"] = json!(legacy_cents(last));
        v["yes_bid"] = json!(legacy_cents(bid_p));
        v["yes_ask"] = json!(legacy_cents(ask_p));
        v["volume"] = json!(legacy_count(stats.volume));
        v["open_interest"] = json!(legacy_count(stats.open_interest));
    }
    v
}

/// `fill` body (the subscriber's own fills).
pub fn fill_msg(f: &Fill, wire: Wire) -> Value {
    let mut v = json!({
        "trade_id": f.trade_id,
        "order_id": f.order_id,
        "market_ticker": f.ticker,
        "is_taker": f.is_taker,
        "side": "yes",
        "action": if f.side == BookSide::Bid { "buy" } else { "sell" },
        "yes_price_dollars": price(f.yes_price),
        "count_fp": count(f.count),
        "fee_cost": fee(f.fee),
        "ts": f.ts_ms / 1000,
        "ts_ms": f.ts_ms,
        "post_position_fp": count(f.post_position),
        "purchased_side": outcome_side(f.side),
        "outcome_side": outcome_side(f.side),
        "book_side": book_side(f.side),
        "exchange_index": 0,
        "subaccount": 0,
    });
    if let Some(id) = &f.client_order_id {
        v["client_order_id"] = json!(id);
    }
    if wire.legacy {
        v["yes_price"] = json!(legacy_cents(f.yes_price));
        v["count"] = json!(legacy_count(f.count).max(1));
        v["post_position"] = json!(legacy_count(f.post_position));
    }
    v
}

/// `user_order` body (the subscriber's own orders).
pub fn user_order_msg(o: &Order) -> Value {
    let mut v = json!({
        "order_id": o.order_id,
        "user_id": user_uuid(o.user),
        "ticker": o.ticker,
        "status": status(o.status),
        "side": "yes",
        "is_yes": true,
        "outcome_side": outcome_side(o.side),
        "book_side": book_side(o.side),
        "yes_price_dollars": price(o.price),
        "fill_count_fp": count(o.fill_count),
        "remaining_count_fp": count(o.remaining_count),
        "initial_count_fp": count(o.initial_count),
        "taker_fill_cost_dollars": dollars(o.taker_fill_cost),
        "maker_fill_cost_dollars": dollars(o.maker_fill_cost),
        "taker_fees_dollars": dollars(o.taker_fees),
        "maker_fees_dollars": dollars(o.maker_fees),
        "client_order_id": o.client_order_id.clone().unwrap_or_default(),
        "self_trade_prevention_type": stp(o),
        "created_time": rfc3339(o.created_ms),
        "created_ts_ms": o.created_ms,
        "last_update_time": rfc3339(o.last_update_ms),
        "subaccount_number": 0,
    });
    if let Some(exp) = o.expiration_ts {
        v["expiration_time"] = Value::String(rfc3339(exp.saturating_mul(1000)));
    }
    v
}

/// Kalshi's REST error body.
pub fn error(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message, "details": message})
}
