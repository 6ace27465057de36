//! Counting message kinds by name allocates nothing: `UnknownKinds` on
//! its own (kinds already seen, new ones, the overflow, odd names and its
//! `Display` into a fixed buffer), the Kalshi session passing over unknown
//! and unfollowed types, and the Polymarket decoder other `event_type`s,
//! counted by a counting global allocator on the test's own thread.

use pt_engine::model::{InstrumentId, Nanos, VenueId};
use pt_feed::kalshi::session::{Market, Session, SessionConfig};
use pt_feed::kinds::UnknownKinds;
use pt_feed::polymarket::BookDecoder;
use std::io::Write as _;

use pt_tests::alloc::allocations;

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;

#[test]
fn counting_kinds_allocates_nothing() {
    let names: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("kind_{i}").into_bytes())
        .chain([b"bad\xff".to_vec(), vec![b'x'; 100]])
        .collect();
    let mut kinds = UnknownKinds::default();
    kinds.count(b"kline");
    let mut shown = [0u8; 1024];

    let before = allocations();
    for _ in 0..1_000 {
        kinds.count(b"kline");
    }
    for n in &names {
        kinds.count(n);
    }
    let read_back = kinds.get(b"kline") + kinds.iter().map(|(_, n)| n).sum::<u64>();
    let mut out = &mut shown[..];
    write!(out, "{kinds}").expect("fits");
    let written = 1024 - out.len();
    let allocated = allocations() - before;

    assert_eq!(kinds.get(b"kline"), 1_001);
    assert_eq!(kinds.overflowed(), 7, "16 slots: kline and 15 more");
    assert_eq!(kinds.total(), 1_001 + 22);
    assert_eq!(read_back, 1_001 + 1_001 + 15);
    let shown = std::str::from_utf8(&shown[..written]).expect("UTF-8");
    assert!(shown.starts_with("kline=1001 kind_0=1 "), "{shown}");
    assert!(shown.ends_with(" +7 more"), "{shown}");
    assert_eq!(allocated, 0);
}

#[test]
fn decoders_count_kinds_they_pass_over_without_allocating() {
    let mut session = Session::new(SessionConfig {
        markets: vec![Market {
            ticker: "KXBTCD-26DEC31-T99999.99".to_owned(),
            instrument: InstrumentId(1),
        }],
        venue: VenueId(1),
        trades: false,
        ticker: false,
    })
    .expect("session");
    session.on_open();
    session.drain_commands(&mut |_| {});
    let kalshi: [&[u8]; 3] = [
        br#"{"type":"brand_new","sid":1,"seq":5,"msg":{}}"#,
        br#"{"msg":{"x":[1,2]},"sid":1,"seq":6,"type":"also_new"}"#,
        br#"{"type":"market_position","sid":3,"msg":{"market_ticker":"M","position_fp":"1.00"}}"#,
    ];
    let mut polymarket = BookDecoder::default();
    let other: [&[u8]; 2] = [
        br#"{"event_type":"price_change","market":"0x1","price_changes":[]}"#,
        br#"{"market":"0x1","event_type":"tick_size_change","new_tick_size":"0.001"}"#,
    ];
    let run = |session: &mut Session, polymarket: &mut BookDecoder, times: usize| {
        for _ in 0..times {
            for f in kalshi {
                session.on_frame(f, Nanos(1), &mut |_| {});
            }
            for f in other {
                let _ = polymarket.decode(f);
            }
        }
    };
    // Warm-up: each kind seen once.
    run(&mut session, &mut polymarket, 1);

    let before = allocations();
    run(&mut session, &mut polymarket, 1_000);
    let allocated = allocations() - before;

    let kinds = session.unhandled_kinds();
    assert_eq!(
        kinds.to_string(),
        "brand_new=1001 also_new=1001 market_position=1001"
    );
    assert_eq!(session.counters().decode_errors, 2_002);
    assert_eq!(
        polymarket.other_event_types.to_string(),
        "price_change=1001 tick_size_change=1001"
    );
    assert_eq!(allocated, 0);
}
