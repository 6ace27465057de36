//! A synthetic `orders` journal, shaped like a market maker's: orders that
//! are acknowledged, then filled in two parts, cancelled, or refused by the
//! gate. For the ingest's benchmark and tests.

use pt_engine::model::journal_kind::journal_kind;
use pt_engine::model::{
    ClientOrderId, Event, EventKind, ExecReport, Header, InstrumentId, Liquidity, Mode, Money,
    Nanos, OrderIntent, Price, Qty, RejectCode, Side, StrategyId, TimeInForce,
};
use pt_journal::{Writer, WriterConfig};
use std::path::Path;

/// Writes about `records` records into a new `orders` journal at `dir`
/// over `markets` instruments, from `start` ns at one record per µs;
/// returns how many it wrote. `progress` is told the count now and then.
pub fn orders_journal(
    dir: &Path,
    records: u64,
    markets: u32,
    start: i64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let config = WriterConfig {
        segment_size: 64 << 20,
        ..WriterConfig::default()
    };
    let (mut w, _) = Writer::open(dir, config)?;
    let strategy = StrategyId(1);
    let mut n = 0u64;
    let mut counter = 1u64;
    let mut trade = 1u64;
    let mut write = |w: &mut Writer, e: Event, n: &mut u64| -> anyhow::Result<()> {
        w.append(
            journal_kind(e.kind()),
            start + *n as i64 * 1_000,
            &e.to_bytes(),
        )?;
        *n += 1;
        if (*n).is_multiple_of(100_000) {
            progress(*n);
        }
        Ok(())
    };
    while n < records {
        let id = ClientOrderId::new(strategy, counter).expect("counter below 2^48");
        counter += 1;
        let instrument = InstrumentId((counter % u64::from(markets.max(1))) as u32);
        let side = if counter.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        let price = Price::from_raw(((counter % 90) as i64 + 5) * 1_000_000);
        let qty = Qty::from_units(10).expect("small");
        let now = Nanos(start + n as i64 * 1_000);
        let intent = OrderIntent {
            header: Header::new(
                EventKind::OrderNew,
                instrument,
                counter,
                Nanos(now.0 - 20_000),
            ),
            client_order_id: id,
            price,
            qty,
            strategy,
            side,
            time_in_force: TimeInForce::GoodTillCancelled,
            requested_mode: Mode::Paper,
            effective_mode: Mode::Paper,
            ..OrderIntent::default()
        };
        let report = |kind: EventKind, q: Qty, cum: Qty| ExecReport {
            header: intent.header.derived(kind),
            client_order_id: id,
            price,
            qty: q,
            cum_qty: cum,
            side,
            requested_mode: Mode::Paper,
            effective_mode: Mode::Paper,
            ..ExecReport::default()
        };
        if counter.is_multiple_of(10) {
            let mut r = report(EventKind::Reject, qty, Qty::ZERO);
            r.reject_code = RejectCode(17);
            write(&mut w, r.into(), &mut n)?;
            continue;
        }
        write(&mut w, intent.into(), &mut n)?;
        let mut ack = report(EventKind::Ack, qty, Qty::ZERO);
        ack.venue_ref = (counter as u128).to_le_bytes();
        write(&mut w, ack.into(), &mut n)?;
        if counter.is_multiple_of(3) {
            let five = Qty::from_units(5).expect("small");
            for cum in [five, qty] {
                let mut f = report(EventKind::Fill, five, cum);
                f.venue_ref = (u128::from(trade) << 64).to_le_bytes();
                f.fee = Money::from_raw(1_000_000);
                f.liquidity = Liquidity::Maker;
                trade += 1;
                write(&mut w, f.into(), &mut n)?;
            }
        } else {
            let cancel = OrderIntent {
                header: intent.header.derived(EventKind::OrderCancel),
                client_order_id: ClientOrderId::new(strategy, counter).expect("small"),
                target: id,
                ..intent
            };
            counter += 1;
            write(&mut w, cancel.into(), &mut n)?;
            write(
                &mut w,
                report(EventKind::Cancelled, qty, Qty::ZERO).into(),
                &mut n,
            )?;
        }
    }
    w.flush()?;
    Ok(n)
}
