//! Bodies of the control and account messages: the fields an engine acts
//! on (ids, tickers, status, prices and counts, error code and text) are
//! decoded; everything else is skipped. See each struct in [`super::msg`]
//! for what is kept.

use super::cursor::Cursor;
use super::decode::{Ts, book_side, closed, open, req, ts_value, venue_ts, yes_no};
use super::error::DecodeError;
use super::levels::Strings;
use super::msg::{
    Action, ErrorCode, ErrorMsg, EventLifecycle, Fill, MarketLifecycle, MarketPosition,
    MultivariateLookup, OrderGroupUpdate, Quote, QuoteExecuted, Rfq, UpdateOk, UserOrder,
};
use pt_engine::model::Nanos;

/// Legacy money fields of `market_position` are centi-cents (1e-4 dollars).
const CENTI_CENT_RAW: i64 = 10_000;

fn skip(c: &mut Cursor<'_>) -> Result<(), DecodeError> {
    c.skip("").map(|_| ())
}

fn opt_secs(c: &mut Cursor<'_>, field: &'static str) -> Result<Option<Nanos>, DecodeError> {
    if c.peek(field)? == b'n' {
        skip(c)?;
        return Ok(None);
    }
    c.secs(field).map(Some)
}

pub(crate) fn update_ok<'a>(
    c: &mut Cursor<'a>,
    frame: &'a [u8],
) -> Result<UpdateOk<'a>, DecodeError> {
    open(c)?;
    let (mut market_tickers, mut market_ids) = (None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"market_tickers" => market_tickers = Some(Strings::read(c, frame, "market_tickers")?),
            b"market_ids" => market_ids = Some(Strings::read(c, frame, "market_ids")?),
            _ => skip(c)?,
        }
    }
    Ok(UpdateOk {
        market_tickers,
        market_ids,
    })
}

pub(crate) fn error<'a>(c: &mut Cursor<'a>) -> Result<ErrorMsg<'a>, DecodeError> {
    let start = open(c)?;
    let (mut code, mut msg, mut ticker, mut market_id) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"code" => code = Some(ErrorCode(c.u64("code")?)),
            b"msg" => msg = Some(c.str("msg")?),
            b"market_ticker" => ticker = c.opt_str("market_ticker")?,
            b"market_id" => market_id = c.opt_str("market_id")?,
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(ErrorMsg {
        code: req(c, code, "code", obj)?,
        msg: msg.unwrap_or(""),
        market_ticker: ticker,
        market_id,
    })
}

fn action(c: &mut Cursor<'_>) -> Result<Action, DecodeError> {
    let (v, span) = c.raw_str("action")?;
    match v {
        b"buy" => Ok(Action::Buy),
        b"sell" => Ok(Action::Sell),
        _ => Err(c.invalid("action", span, "\"buy\" or \"sell\"")),
    }
}

pub(crate) fn fill<'a>(c: &mut Cursor<'a>) -> Result<Fill<'a>, DecodeError> {
    let start = open(c)?;
    let (mut trade_id, mut order_id, mut coid, mut ticker) = (None, None, None, None);
    let (mut is_taker, mut side, mut act, mut outcome, mut purchased, mut bside) =
        (None, None, None, None, None, None);
    let (mut price, mut price_c, mut count, mut count_l) = (None, None, None, None);
    let (mut fee, mut post, mut post_l, mut ts_ms, mut ts) =
        (None, None, None, None, None::<Ts<'a>>);
    while let Some(k) = c.next_key()? {
        match k {
            b"trade_id" => trade_id = Some(c.str("trade_id")?),
            b"order_id" => order_id = Some(c.str("order_id")?),
            b"client_order_id" => coid = c.opt_str("client_order_id")?,
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            b"is_taker" => is_taker = Some(c.bool("is_taker")?),
            b"side" => side = Some(yes_no(c, "side")?),
            b"action" => act = Some(action(c)?),
            b"outcome_side" => outcome = Some(yes_no(c, "outcome_side")?),
            b"purchased_side" => purchased = Some(yes_no(c, "purchased_side")?),
            b"book_side" => bside = Some(book_side(c, "book_side")?),
            b"yes_price_dollars" => price = Some(c.price("yes_price_dollars", true)?),
            b"yes_price" => price_c = Some(c.cents("yes_price")?),
            b"count_fp" => count = Some(c.size("count_fp")?),
            b"count" => count_l = Some(c.size("count")?),
            b"fee_cost" => fee = Some(c.money("fee_cost")?),
            b"post_position_fp" => post = Some(c.qty("post_position_fp")?),
            b"post_position" => post_l = Some(c.qty("post_position")?),
            b"ts_ms" => ts_ms = Some(c.millis("ts_ms")?),
            b"ts" => ts = Some(ts_value(c)?),
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(Fill {
        trade_id: req(c, trade_id, "trade_id", obj)?,
        order_id: req(c, order_id, "order_id", obj)?,
        client_order_id: coid.filter(|s| !s.is_empty()),
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        is_taker,
        side,
        action: act,
        outcome_side: outcome.or(purchased),
        book_side: bside,
        yes_price: req(c, price.or(price_c), "yes_price_dollars", obj)?,
        count: req(c, count.or(count_l), "count_fp", obj)?,
        fee,
        post_position: post.or(post_l),
        ts: venue_ts(c, ts_ms, ts)?,
    })
}

pub(crate) fn market_lifecycle<'a>(c: &mut Cursor<'a>) -> Result<MarketLifecycle<'a>, DecodeError> {
    let start = open(c)?;
    let (mut ticker, mut event_type, mut result, mut deactivated) = (None, None, None, None);
    let (mut open_ts, mut close_ts, mut det_ts, mut settled_ts) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            b"event_type" => event_type = Some(c.str("event_type")?),
            b"open_ts" => open_ts = opt_secs(c, "open_ts")?,
            b"close_ts" => close_ts = opt_secs(c, "close_ts")?,
            b"determination_ts" => det_ts = opt_secs(c, "determination_ts")?,
            b"settled_ts" => settled_ts = opt_secs(c, "settled_ts")?,
            b"result" => result = c.opt_str("result")?,
            b"is_deactivated" => deactivated = Some(c.bool("is_deactivated")?),
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(MarketLifecycle {
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        event_type: req(c, event_type, "event_type", obj)?,
        open_ts,
        close_ts,
        determination_ts: det_ts,
        settled_ts,
        result,
        is_deactivated: deactivated,
    })
}

pub(crate) fn event_lifecycle<'a>(c: &mut Cursor<'a>) -> Result<EventLifecycle<'a>, DecodeError> {
    let start = open(c)?;
    let (mut event, mut series, mut collateral, mut strike) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"event_ticker" => event = Some(c.str("event_ticker")?),
            b"series_ticker" => series = c.opt_str("series_ticker")?,
            b"collateral_return_type" => collateral = c.opt_str("collateral_return_type")?,
            b"strike_date" => strike = opt_secs(c, "strike_date")?,
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(EventLifecycle {
        event_ticker: req(c, event, "event_ticker", obj)?,
        series_ticker: series,
        collateral_return_type: collateral,
        strike_date: strike,
    })
}

pub(crate) fn multivariate<'a>(
    c: &mut Cursor<'a>,
    frame: &'a [u8],
) -> Result<MultivariateLookup<'a>, DecodeError> {
    let start = open(c)?;
    let (mut collection, mut event, mut market, mut selected) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"collection_ticker" => collection = Some(c.str("collection_ticker")?),
            b"event_ticker" => event = Some(c.str("event_ticker")?),
            b"market_ticker" => market = Some(c.str("market_ticker")?),
            b"selected_markets" => {
                if c.peek("selected_markets")? != b'[' {
                    let span = c.skip("selected_markets")?;
                    return Err(c.invalid("selected_markets", span, "an array"));
                }
                let span = c.skip("selected_markets")?;
                selected = frame.get(span.start..span.end);
            }
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(MultivariateLookup {
        collection_ticker: req(c, collection, "collection_ticker", obj)?,
        event_ticker: req(c, event, "event_ticker", obj)?,
        market_ticker: req(c, market, "market_ticker", obj)?,
        selected_markets: req(c, selected, "selected_markets", obj)?,
    })
}

pub(crate) fn market_position<'a>(c: &mut Cursor<'a>) -> Result<MarketPosition<'a>, DecodeError> {
    let start = open(c)?;
    let (mut ticker, mut pos, mut pos_l, mut subaccount) = (None, None, None, None);
    let (mut cost, mut cost_l, mut pnl, mut pnl_l) = (None, None, None, None);
    let (mut fees, mut fees_l, mut volume, mut volume_l) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            b"position_fp" => pos = Some(c.qty("position_fp")?),
            b"position" => pos_l = Some(c.qty("position")?),
            b"position_cost_dollars" => cost = Some(c.money("position_cost_dollars")?),
            b"position_cost" => cost_l = Some(c.scaled_int("position_cost", CENTI_CENT_RAW)?),
            b"realized_pnl_dollars" => pnl = Some(c.money("realized_pnl_dollars")?),
            b"realized_pnl" => pnl_l = Some(c.scaled_int("realized_pnl", CENTI_CENT_RAW)?),
            b"fees_paid_dollars" => fees = Some(c.money("fees_paid_dollars")?),
            b"fees_paid" => fees_l = Some(c.scaled_int("fees_paid", CENTI_CENT_RAW)?),
            b"volume_fp" => volume = Some(c.size("volume_fp")?),
            b"volume" => volume_l = Some(c.size("volume")?),
            b"subaccount" => subaccount = Some(c.u64("subaccount")?),
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(MarketPosition {
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        position: req(c, pos.or(pos_l), "position_fp", obj)?,
        position_cost: cost.or(cost_l),
        realized_pnl: pnl.or(pnl_l),
        fees_paid: fees.or(fees_l),
        volume: volume.or(volume_l),
        subaccount,
    })
}

pub(crate) fn order_group<'a>(c: &mut Cursor<'a>) -> Result<OrderGroupUpdate<'a>, DecodeError> {
    let start = open(c)?;
    let (mut event_type, mut id, mut limit) = (None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"event_type" => event_type = Some(c.str("event_type")?),
            b"order_group_id" => id = Some(c.str("order_group_id")?),
            b"contracts_limit_fp" => limit = Some(c.size("contracts_limit_fp")?),
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(OrderGroupUpdate {
        event_type: req(c, event_type, "event_type", obj)?,
        order_group_id: req(c, id, "order_group_id", obj)?,
        contracts_limit: limit,
    })
}

pub(crate) fn user_order<'a>(c: &mut Cursor<'a>) -> Result<UserOrder<'a>, DecodeError> {
    let start = open(c)?;
    let (mut order_id, mut coid, mut ticker, mut status) = (None, None, None, None);
    let (mut outcome, mut bside, mut side, mut price) = (None, None, None, None);
    let (mut filled, mut remaining, mut initial, mut created) = (None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"order_id" => order_id = Some(c.str("order_id")?),
            b"client_order_id" => coid = c.opt_str("client_order_id")?,
            b"ticker" => ticker = Some(c.str("ticker")?),
            b"status" => status = Some(c.str("status")?),
            b"outcome_side" => outcome = Some(yes_no(c, "outcome_side")?),
            b"book_side" => bside = Some(book_side(c, "book_side")?),
            b"side" => side = Some(yes_no(c, "side")?),
            b"yes_price_dollars" => price = Some(c.price("yes_price_dollars", true)?),
            b"fill_count_fp" => filled = Some(c.size("fill_count_fp")?),
            b"remaining_count_fp" => remaining = Some(c.size("remaining_count_fp")?),
            b"initial_count_fp" => initial = Some(c.size("initial_count_fp")?),
            b"created_ts_ms" => created = Some(c.millis("created_ts_ms")?),
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(UserOrder {
        order_id: req(c, order_id, "order_id", obj)?,
        client_order_id: coid.filter(|s| !s.is_empty()),
        ticker: req(c, ticker, "ticker", obj)?,
        status: req(c, status, "status", obj)?,
        outcome_side: outcome,
        book_side: bside,
        side,
        yes_price: req(c, price, "yes_price_dollars", obj)?,
        fill_count: req(c, filled, "fill_count_fp", obj)?,
        remaining_count: req(c, remaining, "remaining_count_fp", obj)?,
        initial_count: initial,
        created_ts: created,
    })
}

pub(crate) fn rfq<'a>(c: &mut Cursor<'a>) -> Result<Rfq<'a>, DecodeError> {
    let start = open(c)?;
    let (mut id, mut creator, mut ticker, mut event) = (None, None, None, None);
    let (mut contracts, mut contracts_l, mut cost) = (None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"id" => id = Some(c.str("id")?),
            b"creator_id" => creator = Some(c.str("creator_id")?),
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            b"event_ticker" => event = c.opt_str("event_ticker")?,
            b"contracts_fp" => contracts = Some(c.size("contracts_fp")?),
            b"contracts" => contracts_l = Some(c.size("contracts")?),
            b"target_cost_dollars" => cost = Some(c.money("target_cost_dollars")?),
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(Rfq {
        id: req(c, id, "id", obj)?,
        creator_id: creator.unwrap_or(""),
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        event_ticker: event,
        contracts: contracts.or(contracts_l),
        target_cost: cost,
    })
}

pub(crate) fn quote<'a>(c: &mut Cursor<'a>) -> Result<Quote<'a>, DecodeError> {
    let start = open(c)?;
    let (mut quote_id, mut rfq_id, mut creator, mut ticker) = (None, None, None, None);
    let (mut yes, mut yes_c, mut no, mut no_c) = (None, None, None, None);
    let (mut yes_off, mut yes_off_l, mut no_off, mut no_off_l) = (None, None, None, None);
    let (mut accepted_side, mut accepted, mut accepted_l) = (None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"quote_id" => quote_id = Some(c.str("quote_id")?),
            b"rfq_id" => rfq_id = Some(c.str("rfq_id")?),
            b"quote_creator_id" => creator = Some(c.str("quote_creator_id")?),
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            b"yes_bid_dollars" => yes = Some(c.price("yes_bid_dollars", true)?),
            b"yes_bid" => yes_c = Some(c.cents("yes_bid")?),
            b"no_bid_dollars" => no = Some(c.price("no_bid_dollars", true)?),
            b"no_bid" => no_c = Some(c.cents("no_bid")?),
            b"yes_contracts_offered_fp" => yes_off = Some(c.size("yes_contracts_offered_fp")?),
            b"yes_contracts_offered" => yes_off_l = Some(c.size("yes_contracts_offered")?),
            b"no_contracts_offered_fp" => no_off = Some(c.size("no_contracts_offered_fp")?),
            b"no_contracts_offered" => no_off_l = Some(c.size("no_contracts_offered")?),
            b"accepted_side" => accepted_side = Some(yes_no(c, "accepted_side")?),
            b"contracts_accepted_fp" => accepted = Some(c.size("contracts_accepted_fp")?),
            b"contracts_accepted" => accepted_l = Some(c.size("contracts_accepted")?),
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(Quote {
        quote_id: req(c, quote_id, "quote_id", obj)?,
        rfq_id: req(c, rfq_id, "rfq_id", obj)?,
        quote_creator_id: creator.unwrap_or(""),
        market_ticker: req(c, ticker, "market_ticker", obj)?,
        yes_bid: req(c, yes.or(yes_c), "yes_bid_dollars", obj)?,
        no_bid: req(c, no.or(no_c), "no_bid_dollars", obj)?,
        yes_contracts_offered: yes_off.or(yes_off_l),
        no_contracts_offered: no_off.or(no_off_l),
        accepted_side,
        contracts_accepted: accepted.or(accepted_l),
    })
}

pub(crate) fn quote_executed<'a>(c: &mut Cursor<'a>) -> Result<QuoteExecuted<'a>, DecodeError> {
    let start = open(c)?;
    let (mut quote_id, mut rfq_id, mut order_id, mut coid, mut ticker) =
        (None, None, None, None, None);
    while let Some(k) = c.next_key()? {
        match k {
            b"quote_id" => quote_id = Some(c.str("quote_id")?),
            b"rfq_id" => rfq_id = Some(c.str("rfq_id")?),
            b"order_id" => order_id = Some(c.str("order_id")?),
            b"client_order_id" => coid = c.opt_str("client_order_id")?,
            b"market_ticker" => ticker = Some(c.str("market_ticker")?),
            _ => skip(c)?,
        }
    }
    let obj = closed(c, start);
    Ok(QuoteExecuted {
        quote_id: req(c, quote_id, "quote_id", obj)?,
        rfq_id: req(c, rfq_id, "rfq_id", obj)?,
        order_id: req(c, order_id, "order_id", obj)?,
        client_order_id: coid.filter(|s| !s.is_empty()),
        market_ticker: req(c, ticker, "market_ticker", obj)?,
    })
}
