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

/// The serde_json peer of the Kalshi decode benches: `#[derive(Deserialize)]`
/// structs borrowing the strings, extracting the same fields and parsing
/// the same decimals as ours (`benches/kalshi_decode.rs`,
/// `examples/kalshi_probe.rs`).
pub mod serde_peer {
    use pt_engine::model::{Price, Qty};
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Env<'a, M> {
        #[serde(rename = "type")]
        kind: &'a str,
        sid: Option<u64>,
        seq: Option<u64>,
        msg: M,
    }

    #[derive(Deserialize)]
    struct SDelta<'a> {
        market_ticker: &'a str,
        market_id: Option<&'a str>,
        price_dollars: &'a str,
        delta_fp: &'a str,
        side: &'a str,
        ts_ms: Option<i64>,
        client_order_id: Option<&'a str>,
    }

    #[derive(Deserialize)]
    struct SSnapshot<'a> {
        market_ticker: &'a str,
        #[serde(borrow)]
        yes_dollars_fp: Option<Vec<(&'a str, &'a str)>>,
        #[serde(borrow)]
        no_dollars_fp: Option<Vec<(&'a str, &'a str)>>,
    }

    #[derive(Deserialize)]
    struct STicker<'a> {
        market_ticker: &'a str,
        price_dollars: &'a str,
        yes_bid_dollars: &'a str,
        yes_ask_dollars: &'a str,
        volume_fp: Option<&'a str>,
        open_interest_fp: Option<&'a str>,
        yes_bid_size_fp: Option<&'a str>,
        yes_ask_size_fp: Option<&'a str>,
        last_trade_size_fp: Option<&'a str>,
        dollar_volume: Option<i64>,
        dollar_open_interest: Option<i64>,
        ts: Option<i64>,
        ts_ms: Option<i64>,
    }

    #[derive(Deserialize)]
    struct STrade<'a> {
        trade_id: &'a str,
        market_ticker: &'a str,
        yes_price_dollars: &'a str,
        no_price_dollars: &'a str,
        count_fp: &'a str,
        taker_side: &'a str,
        ts: Option<i64>,
        ts_ms: Option<i64>,
    }

    fn px(s: &str) -> i64 {
        Price::parse_bytes(s.as_bytes()).map_or(0, Price::raw)
    }
    fn qx(s: &str) -> i64 {
        Qty::parse_bytes(s.as_bytes()).map_or(0, Qty::raw)
    }
    fn oq(s: Option<&str>) -> i64 {
        s.map_or(0, qx)
    }

    /// Decodes a `delta` frame with serde_json and sums the fields ours reads.
    pub fn delta(f: &str) -> i64 {
        let e: Env<'_, SDelta<'_>> = serde_json::from_str(f).expect("delta");
        let m = e.msg;
        let side = i64::from(m.side == "yes");
        px(m.price_dollars)
            + qx(m.delta_fp)
            + side
            + m.ts_ms.unwrap_or(0)
            + (m.market_ticker.len() + m.market_id.map_or(0, str::len) + e.kind.len()) as i64
            + m.client_order_id.map_or(0, str::len) as i64
            + e.sid.unwrap_or(0) as i64
            + e.seq.unwrap_or(0) as i64
    }

    /// Decodes a `snapshot` frame with serde_json and sums the fields ours reads.
    pub fn snapshot(f: &str) -> i64 {
        let e: Env<'_, SSnapshot<'_>> = serde_json::from_str(f).expect("snapshot");
        let mut acc = e.msg.market_ticker.len() as i64 + e.seq.unwrap_or(0) as i64;
        for side in [e.msg.yes_dollars_fp, e.msg.no_dollars_fp]
            .into_iter()
            .flatten()
        {
            for (p, q) in side {
                acc += px(p) + qx(q);
            }
        }
        acc
    }

    /// Decodes a `ticker` frame with serde_json and sums the fields ours reads.
    pub fn ticker(f: &str) -> i64 {
        let e: Env<'_, STicker<'_>> = serde_json::from_str(f).expect("ticker");
        let m = e.msg;
        px(m.price_dollars)
            + px(m.yes_bid_dollars)
            + px(m.yes_ask_dollars)
            + oq(m.volume_fp)
            + oq(m.open_interest_fp)
            + oq(m.yes_bid_size_fp)
            + oq(m.yes_ask_size_fp)
            + oq(m.last_trade_size_fp)
            + m.dollar_volume.unwrap_or(0)
            + m.dollar_open_interest.unwrap_or(0)
            + m.ts_ms.or(m.ts).unwrap_or(0)
            + m.market_ticker.len() as i64
    }

    /// Decodes a `trade` frame with serde_json and sums the fields ours reads.
    pub fn trade(f: &str) -> i64 {
        let e: Env<'_, STrade<'_>> = serde_json::from_str(f).expect("trade");
        let m = e.msg;
        px(m.yes_price_dollars)
            + px(m.no_price_dollars)
            + qx(m.count_fp)
            + i64::from(m.taker_side == "yes")
            + m.ts_ms.or(m.ts).unwrap_or(0)
            + (m.trade_id.len() + m.market_ticker.len()) as i64
            + e.seq.unwrap_or(0) as i64
    }
}
