use super::*;
use crate::model::{InstrumentId, Side};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn cent_grid() -> PriceGrid {
    let cent = Price::from_raw(1_000_000);
    PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).expect("grid")
}

fn p(cents: i64) -> Price {
    Price::from_raw(cents * 1_000_000)
}

fn q(n: i64) -> Qty {
    Qty::from_raw(n * 100_000_000)
}

#[test]
fn best_levels_follow_sets_and_removals() {
    let h = plain_header(InstrumentId(1), 0);
    let mut book = Ladder::new(InstrumentId(1), cent_grid());
    assert_eq!(Top::of(&book.update(&h)), Top::default());
    book.set(Side::Buy, p(40), q(10), &h).unwrap();
    book.set(Side::Buy, p(42), q(5), &h).unwrap();
    let u = book.set(Side::Sell, p(45), q(7), &h).unwrap();
    assert_eq!(Top::of(&u).bid, Some((p(42), q(5))));
    assert_eq!(Top::of(&u).ask, Some((p(45), q(7))));
    assert_eq!(
        (u.changed_side, u.changed_price, u.changed_qty),
        (Side::Sell, p(45), q(7))
    );
    let u = book
        .apply_delta(Side::Buy, p(42), Qty::from_raw(-q(5).raw()), &h)
        .unwrap();
    assert_eq!(
        Top::of(&u).bid,
        Some((p(40), q(10))),
        "the next bid down takes over"
    );
    assert_eq!(u.version, 4);
    // Errors leave the book unchanged.
    assert_eq!(
        book.apply_delta(Side::Buy, p(40), Qty::from_raw(-q(11).raw()), &h),
        Err(BookError::NegativeQty {
            price: p(40),
            qty: Qty::from_raw(-q(1).raw())
        })
    );
    assert_eq!(
        book.set(Side::Buy, Price::from_raw(40_500_000), q(1), &h),
        Err(BookError::OffGrid(Price::from_raw(40_500_000)))
    );
    assert_eq!(book.version(), 4);
    // A crossing bid is flagged and counted.
    let u = book.set(Side::Buy, p(46), q(1), &h).unwrap();
    assert_ne!(u.book_flags & crate::model::book_flags::CROSSED, 0);
    assert_eq!(book.crossed_count, 1);
    book.set_stale(true);
    assert_ne!(
        book.update(&h).book_flags & crate::model::book_flags::STALE,
        0
    );
}

#[test]
fn a_no_bid_is_a_yes_ask_at_one_minus_p() {
    let h = plain_header(InstrumentId(2), 0);
    let mut book = BinaryBook::new(InstrumentId(2), cent_grid());
    book.set(true, p(40), q(3), &h).unwrap();
    let u = book.set(false, p(55), q(8), &h).unwrap();
    assert_eq!(Top::of(&u).ask, Some((p(45), q(8))));
    let u = book
        .apply_delta(false, p(55), Qty::from_raw(-q(8).raw()), &h)
        .unwrap();
    assert_eq!(Top::of(&u).ask, None);
}

#[test]
fn reset_best_drops_stale_better_levels() {
    let h = plain_header(InstrumentId(3), 0);
    let mut book = Ladder::new(InstrumentId(3), cent_grid());
    book.set(Side::Sell, p(50), q(1), &h).unwrap();
    book.set(Side::Sell, p(52), q(1), &h).unwrap();
    let u = book.reset_best(Side::Sell, p(51), q(4), &h).unwrap();
    assert_eq!(Top::of(&u).ask, Some((p(51), q(4))));
    assert_eq!(book.qty_at(Side::Sell, p(50)), Qty::ZERO);
    assert_eq!(book.qty_at(Side::Sell, p(52)), q(1));
    let mut top = Vec::new();
    book.top_n(Side::Sell, 5, &mut top);
    assert_eq!(top, vec![(p(51), q(4)), (p(52), q(1))]);
}

proptest! {
    /// Against a BTreeMap model: every change gives the model's best levels.
    #[test]
    fn ladder_matches_a_sorted_map(ops in proptest::collection::vec((any::<bool>(), 1i64..100, 0i64..6, any::<bool>()), 1..400)) {
        let h = plain_header(InstrumentId(4), 0);
        let mut book = Ladder::new(InstrumentId(4), cent_grid());
        let mut model: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
        for (buy, cents, n, delta) in ops {
            let side = if buy { Side::Buy } else { Side::Sell };
            let m = &mut model[usize::from(!buy)];
            let old = m.get(&cents).copied().unwrap_or(0);
            let new = if delta { old - n + 2 } else { n };
            let r = if delta {
                book.apply_delta(side, p(cents), q(new - old), &h)
            } else {
                book.set(side, p(cents), q(new), &h)
            };
            if new < 0 {
                prop_assert!(r.is_err());
                continue;
            }
            let u = r.unwrap();
            if new == 0 { m.remove(&cents); } else { m.insert(cents, new); }
            let bid = model[0].iter().next_back().map(|(c, n)| (p(*c), q(*n)));
            let ask = model[1].iter().next().map(|(c, n)| (p(*c), q(*n)));
            prop_assert_eq!(Top::of(&u), Top { bid, ask });
        }
    }
}

/// A grid of 300,001 prices: many bitmap words and several summary words.
fn wide_grid() -> PriceGrid {
    PriceGrid::uniform(Price::ZERO, Price::from_raw(300_000), Price::from_raw(1)).expect("grid")
}

proptest! {
    /// On a wide grid, sparse levels far apart: best levels, reset_best,
    /// top_n, clear_side and clear agree with a BTreeMap model.
    #[test]
    fn wide_sparse_ladder_matches_a_sorted_map(
        ops in proptest::collection::vec((any::<bool>(), 0i64..=300_000, 0i64..4, 0u8..20), 1..300)
    ) {
        let h = plain_header(InstrumentId(5), 0);
        let mut book = Ladder::new(InstrumentId(5), wide_grid());
        let mut model: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
        let mut top = Vec::new();
        for (buy, at, n, op) in ops {
            let side = if buy { Side::Buy } else { Side::Sell };
            let s = usize::from(!buy);
            match op {
                0 => {
                    book.clear_side(side, &h);
                    model[s].clear();
                }
                1 => {
                    book.clear();
                    model = [BTreeMap::new(), BTreeMap::new()];
                }
                2 if n > 0 => {
                    book.reset_best(side, Price::from_raw(at), q(n), &h).unwrap();
                    if buy {
                        model[s].retain(|&k, _| k <= at);
                    } else {
                        model[s].retain(|&k, _| k >= at);
                    }
                    model[s].insert(at, n);
                }
                _ => {
                    book.set(side, Price::from_raw(at), q(n), &h).unwrap();
                    if n == 0 { model[s].remove(&at); } else { model[s].insert(at, n); }
                }
            }
            let bid = model[0].iter().next_back().map(|(c, n)| (Price::from_raw(*c), q(*n)));
            let ask = model[1].iter().next().map(|(c, n)| (Price::from_raw(*c), q(*n)));
            prop_assert_eq!(Top::of(&book.update(&h)), Top { bid, ask });
            book.top_n(side, 5, &mut top);
            let want: Vec<_> = if buy {
                model[s].iter().rev().take(5).map(|(c, n)| (Price::from_raw(*c), q(*n))).collect()
            } else {
                model[s].iter().take(5).map(|(c, n)| (Price::from_raw(*c), q(*n))).collect()
            };
            prop_assert_eq!(&top, &want);
        }
    }
}

mod stage {
    use super::*;
    use crate::model::{Event, EventKind, MarketEvent, MarketStatus, Nanos, book_flags};
    use crate::pipeline::{Outbox, Stage};

    const A: InstrumentId = InstrumentId(7);

    fn ev(kind: EventKind, side: Side, cents: i64, n: i64) -> Event {
        Event::Market(market_event(kind, A, 0, side, p(cents), q(n)))
    }

    fn run(stage: &mut BookStage, events: &[Event]) -> Vec<Event> {
        let mut all = Vec::new();
        let mut out = Outbox::with_capacity(stage.max_outputs());
        for e in events {
            stage.on_event(e, Nanos(0), &mut out);
            all.extend_from_slice(out.as_slice());
            out.clear();
        }
        all
    }

    fn last_top(events: &[Event]) -> (Top, u8) {
        match events.last() {
            Some(Event::Book(u)) => (Top::of(u), u.book_flags),
            other => panic!("expected a book update, got {other:?}"),
        }
    }

    fn snapshot(levels: &[(Side, i64, i64)]) -> Vec<Event> {
        let mut v = vec![ev(EventKind::SnapshotBegin, Side::Buy, 0, 0)];
        v.extend(
            levels
                .iter()
                .map(|&(s, c, n)| ev(EventKind::SnapshotLevel, s, c, n)),
        );
        v.push(ev(EventKind::SnapshotEnd, Side::Buy, 0, 0));
        v
    }

    #[test]
    fn a_book_waits_for_its_snapshot_and_a_snapshot_replaces() {
        let mut stage = BookStage::new([(A, cent_grid())]).unwrap();
        // Before any snapshot the book is stale: changes are ignored.
        assert!(run(&mut stage, &[ev(EventKind::LevelDelta, Side::Buy, 40, 5)]).is_empty());
        assert_eq!(stage.counters().ignored_while_stale, 1);

        let out = run(
            &mut stage,
            &snapshot(&[(Side::Buy, 40, 10), (Side::Buy, 42, 3), (Side::Sell, 45, 7)]),
        );
        assert_eq!(out.len(), 1, "one update per snapshot");
        let (top, flags) = last_top(&out);
        assert_eq!(top.bid, Some((p(42), q(3))));
        assert_eq!(top.ask, Some((p(45), q(7))));
        assert_eq!(flags & book_flags::STALE, 0);

        let out = run(&mut stage, &[ev(EventKind::LevelDelta, Side::Buy, 42, -3)]);
        assert_eq!(last_top(&out).0.bid, Some((p(40), q(10))));

        // The second snapshot replaces: the 40 level is gone.
        let out = run(&mut stage, &snapshot(&[(Side::Buy, 30, 1)]));
        assert_eq!(
            last_top(&out).0,
            Top {
                bid: Some((p(30), q(1))),
                ask: None
            }
        );
        let mut top = Vec::new();
        stage.top_n(A, Side::Buy, 5, &mut top);
        assert_eq!(top, vec![(p(30), q(1))]);
        assert_eq!(stage.counters().snapshots, 2);
        assert_eq!(stage.counters().applied, 1);
    }

    #[test]
    fn a_gap_marks_the_book_stale_until_the_next_snapshot() {
        let mut stage = BookStage::new([(A, cent_grid())]).unwrap();
        run(&mut stage, &snapshot(&[(Side::Buy, 40, 10)]));
        let gap = Event::Market(MarketEvent {
            status: MarketStatus::Gap,
            ..market_event(EventKind::Status, A, 0, Side::Buy, Price::ZERO, Qty::ZERO)
        });
        let out = run(&mut stage, &[gap]);
        assert_ne!(last_top(&out).1 & book_flags::STALE, 0);
        assert!(run(&mut stage, &[ev(EventKind::LevelDelta, Side::Buy, 41, 1)]).is_empty());
        let out = run(&mut stage, &snapshot(&[(Side::Buy, 41, 2)]));
        assert_eq!(last_top(&out).1 & book_flags::STALE, 0);
        assert_eq!(stage.counters().gaps, 1);
        assert_eq!(stage.counters().ignored_while_stale, 1);
    }

    #[test]
    fn refused_changes_are_counted_and_make_the_book_stale() {
        let mut stage = BookStage::new([(A, cent_grid())]).unwrap();
        run(&mut stage, &snapshot(&[(Side::Sell, 60, 1)]));
        let out = run(&mut stage, &[ev(EventKind::LevelDelta, Side::Sell, 60, -2)]);
        assert_ne!(last_top(&out).1 & book_flags::STALE, 0);
        assert_eq!(stage.counters().negative, 1);
        run(&mut stage, &snapshot(&[(Side::Sell, 60, 1)]));
        let off = Event::Market(market_event(
            EventKind::LevelSet,
            A,
            0,
            Side::Sell,
            Price::from_raw(60_500_000),
            q(1),
        ));
        run(&mut stage, &[off]);
        assert_eq!(stage.counters().off_grid, 1);
        // Unknown instruments and orphan snapshot parts are counted only.
        let other = Event::Market(market_event(
            EventKind::LevelSet,
            InstrumentId(99),
            0,
            Side::Sell,
            p(50),
            q(1),
        ));
        assert!(
            run(
                &mut stage,
                &[other, ev(EventKind::SnapshotEnd, Side::Buy, 0, 0)]
            )
            .is_empty()
        );
        assert_eq!(stage.counters().unknown_instrument, 1);
        assert_eq!(stage.counters().orphan_snapshot_parts, 1);
    }

    #[test]
    fn trades_pass_through_and_crossed_books_are_counted() {
        let mut stage = BookStage::new([(A, cent_grid())]).unwrap();
        run(&mut stage, &snapshot(&[(Side::Sell, 50, 1)]));
        let trade = ev(EventKind::Trade, Side::Buy, 50, 1);
        assert_eq!(run(&mut stage, &[trade]), vec![trade]);
        let out = run(&mut stage, &[ev(EventKind::LevelSet, Side::Buy, 50, 1)]);
        assert_ne!(last_top(&out).1 & book_flags::CROSSED, 0);
        assert_eq!(stage.counters().crossed, 1);
        assert_eq!(
            BookStage::new([(A, cent_grid()), (A, cent_grid())]).err(),
            Some(BookStageError::Duplicate(A))
        );
    }

    #[test]
    fn a_refused_change_or_a_stale_mark_asks_the_feed_once_until_a_snapshot() {
        use crate::book::is_resync;
        use crate::model::header_flags;
        let mut stage = BookStage::new([(A, cent_grid())]).unwrap();
        run(&mut stage, &snapshot(&[(Side::Buy, 40, 5)]));
        // Two refusals (below zero, then ignored while stale): one request,
        // on the update that made the book stale.
        let out = run(&mut stage, &[ev(EventKind::LevelDelta, Side::Buy, 40, -6)]);
        let (_, flags) = last_top(&out);
        assert_ne!(flags & book_flags::STALE, 0);
        assert!(is_resync(&out[0]));
        let out = run(&mut stage, &[ev(EventKind::LevelDelta, Side::Buy, 40, -6)]);
        assert!(out.is_empty());
        assert_eq!(stage.counters().negative, 1);
        assert_eq!(stage.counters().resyncs, 1);
        // A snapshot makes it whole: updates no longer ask.
        let out = run(&mut stage, &snapshot(&[(Side::Buy, 40, 5)]));
        assert!(!out.iter().any(is_resync));
        assert!(!stage.book(A).unwrap().is_stale());
        // A gap the session reported: stale, but the session is already
        // resyncing, so no request.
        let mut gap = ev(EventKind::Status, Side::Buy, 0, 0);
        if let Event::Market(m) = &mut gap {
            m.status = MarketStatus::Gap;
        }
        let out = run(&mut stage, &[gap]);
        assert_ne!(last_top(&out).1 & book_flags::STALE, 0);
        assert!(!is_resync(&out[0]));
        // A graph's stale mark (the market-data link overflowed): the feed
        // cannot know, so the update asks.
        run(&mut stage, &snapshot(&[(Side::Buy, 40, 5)]));
        if let Event::Market(m) = &mut gap {
            m.header.flags |= header_flags::STALE;
        }
        let out = run(&mut stage, &[gap]);
        assert!(is_resync(&out[0]));
        assert_eq!(stage.counters().resyncs, 2);
    }
}
