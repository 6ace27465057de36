//! The Kalshi bytes-to-book pipeline as benched (`benches/book.rs`) and
//! profiled (`examples/kalshi_probe.rs`): a generated delta stream and the
//! stages it goes through on one core.

use pt_engine::book::BookStage;
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{InstrumentId, Nanos, Price, VenueId};
use pt_feed::kalshi::session::{Market, Session, SessionConfig};
use std::hint::black_box;

/// The three markets of the stream.
pub const TICKERS: [&str; 3] = [
    "KXBTCD-26DEC31-T99999.99",
    "KXETHD-26DEC31-T3999.99",
    "FED-26DEC-T4.00",
];

/// A Kalshi-shaped stream: one snapshot per market, then `n` deltas on
/// three markets, each keeping its level at zero or above, as `pt sim` and
/// Kalshi send them (current fixed-point format, `use_yes_price`).
pub fn frames(n: usize) -> Vec<String> {
    let markets = TICKERS;
    let mut frames = Vec::with_capacity(n + 3);
    let mut levels = [[[0i64; 101]; 2]; 3];
    let mut seq = 0u64;
    for (m, t) in markets.iter().enumerate() {
        seq += 1;
        let mut yes = Vec::new();
        let mut no = Vec::new();
        for (c, q) in levels[m][0].iter_mut().enumerate().take(50).skip(30) {
            *q = 100 + c as i64;
            yes.push(format!(r#"["0.{c:02}00","{q}.00"]"#));
        }
        for (c, q) in levels[m][1].iter_mut().enumerate().take(71).skip(51) {
            *q = 100 + c as i64;
            no.push(format!(r#"["0.{c:02}00","{q}.00"]"#));
        }
        frames.push(format!(
            r#"{{"type":"orderbook_snapshot","sid":1,"seq":{seq},"msg":{{"market_ticker":"{t}","market_id":"9b0f6b43-5b68-4f9f-9f02-a2a1a1c1d1e1","yes_dollars_fp":[{}],"no_dollars_fp":[{}]}}}}"#,
            yes.join(","),
            no.join(",")
        ));
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let m = (x % 3) as usize;
        let side = ((x >> 8) % 2) as usize;
        let c = if side == 0 {
            30 + (x >> 16) % 20
        } else {
            51 + (x >> 16) % 20
        } as usize;
        let have = levels[m][side][c];
        let d = if have > 0 && (x >> 32).is_multiple_of(2) {
            -(1 + ((x >> 40) as i64 % have))
        } else {
            1 + (x >> 40) as i64 % 50
        };
        levels[m][side][c] += d;
        seq += 1;
        frames.push(format!(
            r#"{{"type":"orderbook_delta","sid":1,"seq":{seq},"msg":{{"market_ticker":"{}","market_id":"9b0f6b43-5b68-4f9f-9f02-a2a1a1c1d1e1","price_dollars":"0.{c:02}00","delta_fp":"{d}.00","side":"{}","ts":"2026-11-23T14:00:00Z","ts_ms":1795442400000}}}}"#,
            markets[m],
            if side == 0 { "yes" } else { "no" }
        ));
    }
    frames
}

/// [`frames`] back to back in one buffer, as frames sit in a socket's read
/// buffer: the bytes and each frame's end.
pub fn contiguous(n: usize) -> (Vec<u8>, Vec<usize>) {
    let owned = frames(n);
    let mut bytes = Vec::with_capacity(owned.iter().map(String::len).sum());
    let mut ends = Vec::with_capacity(owned.len());
    for f in &owned {
        bytes.extend_from_slice(f.as_bytes());
        ends.push(bytes.len());
    }
    (bytes, ends)
}

/// Decode, the session's sequence check, conversion to engine events and
/// the book stage, subscribed and ready for [`frames`].
#[derive(Debug)]
pub struct Pipeline {
    /// The Kalshi session (owns the decoder).
    pub session: Session,
    /// The books.
    pub stage: BookStage,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Pipeline {
    /// A session subscribed to [`TICKERS`] and a stage with their books.
    pub fn new() -> Pipeline {
        let cent = Price::from_raw(1_000_000);
        let grid = PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).expect("grid");
        let mut session = Session::new(SessionConfig {
            markets: TICKERS
                .iter()
                .enumerate()
                .map(|(i, t)| Market {
                    ticker: (*t).to_owned(),
                    instrument: InstrumentId(i as u32 + 1),
                })
                .collect(),
            venue: VenueId(1),
            trades: false,
            ticker: false,
        })
        .expect("session");
        session.on_open();
        session.drain_commands(&mut |_| {});
        session.on_frame(
            br#"{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":1}}"#,
            Nanos(0),
            &mut |_| {},
        );
        let stage =
            BookStage::new((1..=3).map(|i| (InstrumentId(i), grid.clone()))).expect("stage");
        Pipeline { session, stage }
    }

    /// Runs the frames ending at `ends` in `bytes` through; a checksum of
    /// the book updates.
    pub fn run(&mut self, bytes: &[u8], ends: &[usize]) -> u64 {
        let mut updates = 0u64;
        let mut start = 0;
        for &end in ends {
            let stage = &mut self.stage;
            self.session
                .on_frame(&bytes[start..end], Nanos(1), &mut |e| {
                    if let Some(u) = stage.apply(&e) {
                        updates += black_box(u).version & 1;
                    }
                });
            start = end;
        }
        updates
    }
}
