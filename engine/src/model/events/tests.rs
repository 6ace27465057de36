use super::*;
use core::mem::{align_of, offset_of, size_of};
use proptest::prelude::*;

#[test]
fn layout_is_pinned() {
    assert_eq!(size_of::<Header>(), 64);
    assert_eq!(align_of::<Header>(), 8);
    assert_eq!(offset_of!(Header, kind), 0);
    assert_eq!(offset_of!(Header, flags), 1);
    assert_eq!(offset_of!(Header, venue), 2);
    assert_eq!(offset_of!(Header, instrument), 4);
    assert_eq!(offset_of!(Header, seq), 8);
    assert_eq!(offset_of!(Header, venue_ts), 16);
    assert_eq!(offset_of!(Header, recv_ts), 24);
    assert_eq!(offset_of!(Header, stamps), 32);

    assert_eq!(size_of::<MarketEvent>(), RECORD_SIZE);
    assert_eq!(offset_of!(MarketEvent, side), 64);
    assert_eq!(offset_of!(MarketEvent, status), 65);
    assert_eq!(offset_of!(MarketEvent, price), 72);
    assert_eq!(offset_of!(MarketEvent, qty), 80);
    assert_eq!(offset_of!(MarketEvent, trade_id), 88);
    assert_eq!(offset_of!(MarketEvent, levels), 96);
    assert_eq!(offset_of!(MarketEvent, gap_expected), 104);
    assert_eq!(offset_of!(MarketEvent, gap_received), 112);

    assert_eq!(size_of::<BookUpdate>(), RECORD_SIZE);
    assert_eq!(offset_of!(BookUpdate, best_bid), 64);
    assert_eq!(offset_of!(BookUpdate, best_bid_qty), 72);
    assert_eq!(offset_of!(BookUpdate, best_ask), 80);
    assert_eq!(offset_of!(BookUpdate, best_ask_qty), 88);
    assert_eq!(offset_of!(BookUpdate, changed_price), 96);
    assert_eq!(offset_of!(BookUpdate, changed_qty), 104);
    assert_eq!(offset_of!(BookUpdate, changed_side), 112);
    assert_eq!(offset_of!(BookUpdate, book_flags), 113);
    assert_eq!(offset_of!(BookUpdate, version), 120);

    assert_eq!(size_of::<OrderIntent>(), RECORD_SIZE);
    assert_eq!(offset_of!(OrderIntent, client_order_id), 64);
    assert_eq!(offset_of!(OrderIntent, target), 72);
    assert_eq!(offset_of!(OrderIntent, price), 80);
    assert_eq!(offset_of!(OrderIntent, qty), 88);
    assert_eq!(offset_of!(OrderIntent, strategy), 96);
    assert_eq!(offset_of!(OrderIntent, side), 98);
    assert_eq!(offset_of!(OrderIntent, time_in_force), 99);
    assert_eq!(offset_of!(OrderIntent, order_flags), 100);
    assert_eq!(offset_of!(OrderIntent, expiry), 104);

    assert_eq!(size_of::<ExecReport>(), RECORD_SIZE);
    assert_eq!(offset_of!(ExecReport, client_order_id), 64);
    assert_eq!(offset_of!(ExecReport, venue_ref), 72);
    assert_eq!(offset_of!(ExecReport, price), 88);
    assert_eq!(offset_of!(ExecReport, qty), 96);
    assert_eq!(offset_of!(ExecReport, cum_qty), 104);
    assert_eq!(offset_of!(ExecReport, fee), 112);
    assert_eq!(offset_of!(ExecReport, reject_code), 120);
    assert_eq!(offset_of!(ExecReport, side), 122);
    assert_eq!(offset_of!(ExecReport, liquidity), 123);
    assert_eq!(offset_of!(ExecReport, requested_mode), 124);
    assert_eq!(offset_of!(ExecReport, effective_mode), 125);

    assert_eq!(size_of::<Command>(), RECORD_SIZE);
    assert_eq!(offset_of!(Command, action), 64);
    assert_eq!(offset_of!(Command, scope), 65);
    assert_eq!(offset_of!(Command, strategy), 66);
    assert_eq!(offset_of!(Command, target), 68);
    assert_eq!(offset_of!(Command, arg), 72);
    assert_eq!(offset_of!(Command, issued_by), 80);
}

/// `Event` is a record and a tag: 136 bytes. Every variant is exactly 128
/// bytes with no niche, so the tag cannot hide inside `Header::kind`; the
/// enum is for code that handles mixed kinds (journal readers, replay),
/// while rings and journals carry the 128-byte records themselves (see
/// docs/ARCHITECTURE.md).
#[test]
fn an_event_is_a_record_and_a_tag() {
    assert_eq!(size_of::<Event>(), RECORD_SIZE + 8);
    assert_eq!(
        Event::from(ExecReport::default()).to_bytes().len(),
        RECORD_SIZE
    );
}

#[test]
fn a_fill_carries_its_trade_id_and_other_reports_the_venue_order_id() {
    let id = ClientOrderId::new(StrategyId(7), 42).expect("id");
    let mut x = ExecReport {
        header: Header::new(EventKind::Fill, InstrumentId(1), 1, Nanos(1)),
        client_order_id: id,
        venue_ref: [0xab; 16],
        ..ExecReport::default()
    };
    assert_eq!(x.trade_id(), Some([0xab; 16]));
    assert_eq!(x.venue_order_id(), None);
    assert_eq!(x.strategy(), StrategyId(7));
    x.header.kind = EventKind::Ack;
    assert_eq!((x.trade_id(), x.venue_order_id()), (None, Some([0xab; 16])));
    x.venue_ref = [0; 16];
    assert_eq!(x.venue_order_id(), None, "zero means not known yet");
    assert_eq!(
        x.requested_mode,
        Mode::Paper,
        "a record left unset is never live"
    );
}

#[test]
fn an_out_of_range_mode_is_refused() {
    let mut bytes = ExecReport {
        header: Header::new(EventKind::Fill, InstrumentId(1), 1, Nanos(1)),
        ..ExecReport::default()
    }
    .to_bytes();
    bytes[125] = 3;
    assert_eq!(
        ExecReport::from_bytes(&bytes),
        Err(RecordError::InvalidField {
            kind: EventKind::Fill
        })
    );
}

#[test]
fn encoding_is_little_endian_bytes() {
    let mut header = Header::new(
        EventKind::Trade,
        InstrumentId(0x0102_0304),
        0x1122,
        Nanos(7),
    );
    header.venue = VenueId(0xA0B0);
    let event = MarketEvent {
        header,
        side: Side::Sell,
        price: Price::from_raw(0x0807_0605_0403_0201),
        ..MarketEvent::default()
    };
    let bytes = event.to_bytes();
    assert_eq!(bytes[0], 0x15);
    assert_eq!(&bytes[2..4], &[0xB0, 0xA0]);
    assert_eq!(&bytes[4..8], &[0x04, 0x03, 0x02, 0x01]);
    assert_eq!(&bytes[8..10], &[0x22, 0x11]);
    assert_eq!(bytes[24], 7);
    assert_eq!(bytes[64], 1);
    assert_eq!(&bytes[72..80], &[1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn decoding_rejects_bad_input() {
    assert_eq!(
        Event::from_bytes(&[0u8; 10]),
        Err(RecordError::Length { len: 10 })
    );
    let mut bytes = [0u8; RECORD_SIZE];
    assert_eq!(
        Event::from_bytes(&bytes),
        Err(RecordError::UnknownKind { kind: 0 })
    );
    bytes[0] = EventKind::Trade as u8;
    assert!(matches!(Event::from_bytes(&bytes), Ok(Event::Market(_))));
    bytes[64] = 2; // side out of range
    assert_eq!(
        Event::from_bytes(&bytes),
        Err(RecordError::InvalidField {
            kind: EventKind::Trade
        })
    );
    bytes[64] = 0;
    assert_eq!(
        BookUpdate::from_bytes(&bytes),
        Err(RecordError::WrongFamily {
            kind: EventKind::Trade
        })
    );
}

fn any_kind() -> impl Strategy<Value = EventKind> {
    prop::sample::select(crate::model::journal_kind::ALL_KINDS.to_vec())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(event) = Event::from_bytes(&bytes) {
            prop_assert_eq!(&event.to_bytes()[..], &bytes[..]);
        }
    }

    #[test]
    fn records_round_trip(kind in any_kind(), seq: u64, recv: i64, price: i64, qty: i64, inst: u32) {
        let header = Header::new(kind, InstrumentId(inst), seq, Nanos(recv));
        let event: Event = match kind.family() {
            Family::Market => MarketEvent { header, price: Price::from_raw(price), qty: Qty::from_raw(qty), ..Default::default() }.into(),
            Family::Book => BookUpdate { header, best_bid: Price::from_raw(price), best_ask_qty: Qty::from_raw(qty), ..Default::default() }.into(),
            Family::Intent => OrderIntent { header, price: Price::from_raw(price), qty: Qty::from_raw(qty), time_in_force: TimeInForce::FillOrKill, ..Default::default() }.into(),
            Family::Exec => ExecReport { header, price: Price::from_raw(price), cum_qty: Qty::from_raw(qty), fee: Money::from_raw(price / 7), liquidity: Liquidity::Taker, effective_mode: Mode::Live, ..Default::default() }.into(),
            Family::Command => Command { header, action: CommandAction::Flatten, arg: price, ..Default::default() }.into(),
        };
        let bytes = event.to_bytes();
        prop_assert_eq!(Event::from_bytes(&bytes), Ok(event));
    }
}
