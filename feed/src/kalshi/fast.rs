//! The `orderbook_delta` fast path: most of what a book feed receives,
//! decoded by a reader that knows the message's keys.
//!
//! It accepts only compact frames (no whitespace between tokens), the
//! current fixed-point fields, strings without escapes or control bytes,
//! unsigned integers of at most 18 digits, and decimals of at most 10
//! integer and 8 fractional digits. Anything else (another message type,
//! an unknown or repeated key, a legacy cent field, an escape, a value it
//! would have to refuse) makes it give up with `None`, and
//! [`super::decode`] runs the general decoder, which decodes or refuses
//! the frame with a precise error. So the fast path never decides an
//! error and never accepts a frame the general one refuses; whenever it
//! returns a message, the general decoder returns the same one. That
//! equivalence is tested on generated and mutated frames
//! (`kalshi/fast_tests.rs`) and by the `kalshi_decode` fuzz target, which
//! checks `decode` against `decode_general` on every input.
//!
//! Why it is quicker than the general reader:
//! - the frame is checked to be UTF-8 once, with vector instructions
//!   (`simdutf8`), so strings need no check of their own;
//! - in the documented key order the frame is read straight through, each
//!   key one fixed-length comparison of `,"key":`, with no dispatch; in any
//!   other order a key is recognised by its first letter and one such
//!   comparison (no search for its closing quote);
//! - string ends are found eight bytes at a time (SWAR);
//! - integers and decimals are read eight digits at a time (SWAR).
//!
//! Counts: `benches/benches/kalshi_decode.rs` and
//! `benches/examples/kalshi_probe.rs` (instructions under callgrind).
//!
//! The type may come before or after `msg` (`pt sim` sorts keys, putting
//! `msg` first): when `msg` comes first it is read as a delta on
//! speculation and the frame is given up unless `type` then says
//! `orderbook_delta`.

use super::msg::{Envelope, Msg, OrderbookDelta, YesNo};
use super::time::parse_rfc3339;
use crate::json::string_stops as stops;
use pt_engine::model::{Nanos, Price, Qty};

/// The eight bytes of `b` at `at` as a little-endian word; missing bytes
/// past the end read as `"`.
#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    match b.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        Some(w) => u64::from_le_bytes(*w),
        None => tail_word(b, at),
    }
}

/// [`word`] within eight bytes of the end: the frame's last eight bytes
/// shifted down, `"` shifted in behind them (no byte loop, no copy).
#[inline(always)]
fn tail_word(b: &[u8], at: usize) -> u64 {
    const QUOTES: u64 = 0x2222_2222_2222_2222;
    let have = b.len().saturating_sub(at) as u32;
    let Some(last) = b.last_chunk::<8>() else {
        return short_word(b, at);
    };
    let gone = 8 * (8 - have);
    let bytes = u64::from_le_bytes(*last).checked_shr(gone).unwrap_or(0);
    bytes | QUOTES.checked_shl(8 * have).unwrap_or(0)
}

/// [`word`] of a frame shorter than eight bytes.
#[cold]
#[inline(never)]
fn short_word(b: &[u8], at: usize) -> u64 {
    let mut a = [b'"'; 8];
    for (d, s) in a.iter_mut().zip(b.get(at..).unwrap_or(&[])) {
        *d = *s;
    }
    u64::from_le_bytes(a)
}

/// The number of leading ASCII digits of the little-endian word `x`
/// (0 to 8). A byte is a digit when its high nibble is 3 and adding 6 does
/// not carry into it; a carry out of a byte only comes from a byte that is
/// already flagged below it, so the lowest flag is exact.
#[inline(always)]
fn digit_count(x: u64) -> usize {
    const NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    let high = (x & NIBBLES) ^ THREES;
    let over_nine = (x.wrapping_add(0x0606_0606_0606_0606) & NIBBLES) ^ THREES;
    ((high | over_nine).trailing_zeros() / 8) as usize
}

/// The value of the first `n` (1 to 8) digit bytes of `x`, first digit in
/// the lowest byte: the digits are moved to the top (zeros in front), then
/// pairs, quads and the halves are combined by three multiplications.
#[inline(always)]
fn digits_value(x: u64, n: usize) -> u64 {
    let v = (x & 0x0F0F_0F0F_0F0F_0F0F) << (8 * (8 - n));
    let v = (v.wrapping_mul(10 * 256 + 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100 * 65_536 + 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    v.wrapping_mul(10_000 * (1 << 32) + 1) >> 32
}

const POW10: [i64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

struct Reader<'a> {
    /// The frame, checked to be UTF-8 once up front, so a string found
    /// between ASCII quotes is UTF-8 too.
    s: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn b(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b().get(self.at).copied()
    }

    #[inline(always)]
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.at += 1)
    }

    /// Consumes `lit` if the input continues with it. `lit` is a constant
    /// at every call, so the comparison compiles to a few word compares.
    #[inline(always)]
    fn lit(&mut self, lit: &[u8]) -> bool {
        let hit = self.b().get(self.at..self.at + lit.len()) == Some(lit);
        self.at += if hit { lit.len() } else { 0 };
        hit
    }

    /// After a value: `true` for `,` (another member follows), `false`
    /// for `}`.
    #[inline(always)]
    fn more(&mut self) -> Option<bool> {
        let b = self.peek()?;
        self.at += 1;
        match b {
            b',' => Some(true),
            b'}' => Some(false),
            _ => None,
        }
    }

    /// A string without escapes or control bytes.
    #[inline(always)]
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let b = self.b();
        let mut at = start;
        loop {
            let m = stops(word(b, at));
            if m != 0 {
                at += (m.trailing_zeros() / 8) as usize;
                break;
            }
            at += 8;
        }
        if b.get(at) != Some(&b'"') {
            return None;
        }
        self.at = at + 1;
        self.s.get(start..at)
    }

    /// A run of 1 to 18 digits: its value and length.
    /// A string of exactly `N` bytes (`N` ≥ 8), the usual shape of market
    /// ids (36) and timestamps (20): its words are checked together, with
    /// one branch, the last one overlapping the one before. Any other
    /// length goes through [`Reader::str`].
    #[inline(always)]
    fn fixed_str<const N: usize>(&mut self) -> Option<&'a str> {
        let b = self.b();
        let start = self.at + 1;
        if b.get(self.at) == Some(&b'"') && b.get(start + N) == Some(&b'"') {
            let mut m = stops(word(b, start + N - 8));
            for k in 0..N / 8 {
                m |= stops(word(b, start + 8 * k));
            }
            if m == 0 {
                self.at = start + N + 1;
                return self.s.get(start..start + N);
            }
        }
        self.str()
    }

    #[inline(always)]
    fn digits(&mut self) -> Option<(u64, usize)> {
        let b = self.b();
        let w = word(b, self.at);
        let n = digit_count(w);
        if n == 0 {
            return None;
        }
        if n < 8 {
            self.at += n;
            return Some((digits_value(w, n), n));
        }
        let mut v = digits_value(w, 8);
        let w = word(b, self.at + 8);
        let m = digit_count(w);
        if m > 0 {
            v = v * POW10[m] as u64 + digits_value(w, m);
        }
        if m == 8 {
            let w = word(b, self.at + 16);
            let k = digit_count(w);
            if k > 2 {
                return None;
            }
            if k > 0 {
                v = v * POW10[k] as u64 + digits_value(w, k);
            }
            self.at += 16 + k;
            return Some((v, 16 + k));
        }
        self.at += 8 + m;
        Some((v, 8 + m))
    }

    /// A JSON integer of 1 to 18 digits, not negative, no leading zero.
    #[inline(always)]
    fn uint(&mut self) -> Option<u64> {
        let first = self.peek();
        let (v, n) = self.digits()?;
        if n > 1 && first == Some(b'0') {
            return None;
        }
        Some(v)
    }

    /// A quoted decimal (`"-54.00"`): an optional `-`, 1 to 10 integer
    /// digits, an optional fraction of 1 to 8 digits, as 1e-8 units.
    #[inline(always)]
    fn decimal(&mut self) -> Option<i64> {
        self.eat(b'"')?;
        let neg = self.peek() == Some(b'-');
        self.at += usize::from(neg);
        let (int, n) = self.digits()?;
        if n > 10 {
            return None;
        }
        let mut raw = int as i64 * 100_000_000;
        if self.peek() == Some(b'.') {
            self.at += 1;
            let (frac, m) = self.digits()?;
            raw += frac as i64 * *POW10.get(8usize.checked_sub(m)?)?;
        }
        self.eat(b'"')?;
        Some(if neg { -raw } else { raw })
    }
}

/// The fields of a delta body, by bit in the `seen` mask.
const TICKER: u16 = 1;
const MARKET_ID: u16 = 2;
const PRICE: u16 = 4;
const DELTA: u16 = 8;
const SIDE: u16 = 16;
const TS: u16 = 32;
const TS_MS: u16 = 64;
const COID: u16 = 128;
const SUBACCOUNT: u16 = 256;
const REQUIRED: u16 = TICKER | PRICE | DELTA | SIDE;

/// Which body key starts here (consumed with its `:`), or `None`.
#[inline(always)]
fn body_key(r: &mut Reader<'_>) -> Option<u16> {
    let hit = |r: &mut Reader<'_>, lit: &[u8], bit: u16| r.lit(lit).then_some(bit);
    match r.b().get(r.at + 1)? {
        b'm' => {
            hit(r, b"\"market_ticker\":", TICKER).or_else(|| hit(r, b"\"market_id\":", MARKET_ID))
        }
        b'p' => hit(r, b"\"price_dollars\":", PRICE),
        b'd' => hit(r, b"\"delta_fp\":", DELTA),
        b's' => hit(r, b"\"side\":", SIDE).or_else(|| hit(r, b"\"subaccount\":", SUBACCOUNT)),
        b't' => hit(r, b"\"ts\":", TS).or_else(|| hit(r, b"\"ts_ms\":", TS_MS)),
        b'c' => hit(r, b"\"client_order_id\":", COID),
        _ => None,
    }
}

/// The `msg` of a delta, or `None` to leave it to the general decoder.
#[inline(always)]
fn body<'a>(r: &mut Reader<'a>) -> Option<OrderbookDelta<'a>> {
    r.eat(b'{')?;
    let mut seen = 0u16;
    let mut d = OrderbookDelta {
        market_ticker: "",
        market_id: None,
        price: Price::ZERO,
        delta: Qty::ZERO,
        side: YesNo::Yes,
        client_order_id: None,
        subaccount: None,
        ts: Nanos::UNSET,
    };
    let mut ts_text: Option<&'a str> = None;
    let mut ts_ms = None;
    loop {
        let bit = body_key(r)?;
        match bit {
            TICKER => d.market_ticker = r.str()?,
            MARKET_ID => d.market_id = Some(r.str()?),
            PRICE => {
                let p = r.decimal()?;
                if !(0..=Price::ONE.raw()).contains(&p) {
                    return None;
                }
                d.price = Price::from_raw(p);
            }
            DELTA => d.delta = Qty::from_raw(r.decimal()?),
            SIDE => {
                d.side = if r.lit(b"\"yes\"") {
                    YesNo::Yes
                } else if r.lit(b"\"no\"") {
                    YesNo::No
                } else {
                    return None;
                }
            }
            TS => {
                if r.peek() == Some(b'"') {
                    ts_text = Some(r.str()?);
                } else {
                    let secs = i64::try_from(r.uint()?).ok()?;
                    d.ts = Nanos(secs.checked_mul(1_000_000_000)?);
                }
            }
            TS_MS => {
                let ms = i64::try_from(r.uint()?).ok()?;
                ts_ms = Some(Nanos(ms.checked_mul(1_000_000)?));
            }
            COID => {
                if !r.lit(b"null") {
                    d.client_order_id = Some(r.str()?);
                }
            }
            _ => d.subaccount = Some(r.uint()?),
        }
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        if !r.more()? {
            break;
        }
    }
    if seen & REQUIRED != REQUIRED {
        return None;
    }
    if let Some(t) = ts_ms {
        d.ts = t;
    } else if let Some(text) = ts_text {
        d.ts = parse_rfc3339(text.as_bytes())?;
    }
    Some(d)
}

/// The frame in the documented layout, key after key without a dispatch:
/// `{"type":"orderbook_delta","sid":N,"seq":N,"msg":{"market_ticker":S,
/// "market_id":S,"price_dollars":D,"delta_fp":D,"side":S,"ts":S,
/// "ts_ms":N}}`. `None` as soon as the frame departs from it.
/// A delta as the fast path returns it: the envelope's numbers and the
/// body, without the [`Envelope`] around it (the session takes these parts
/// directly; [`super::decode`] wraps them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FastDelta<'a> {
    pub(crate) sid: Option<u64>,
    pub(crate) seq: Option<u64>,
    pub(crate) id: Option<u64>,
    pub(crate) delta: OrderbookDelta<'a>,
}

impl<'a> FastDelta<'a> {
    #[inline]
    pub(crate) fn into_envelope(self) -> Envelope<'a> {
        Envelope {
            sid: self.sid,
            seq: self.seq,
            id: self.id,
            msg: Msg::OrderbookDelta(self.delta),
        }
    }
}

#[inline(always)]
fn in_order<'a>(r: &mut Reader<'a>) -> Option<FastDelta<'a>> {
    let expect = |r: &mut Reader<'a>, lit: &[u8]| r.lit(lit).then_some(());
    expect(r, b"{\"type\":\"orderbook_delta\",\"sid\":")?;
    let sid = r.uint()?;
    expect(r, b",\"seq\":")?;
    let seq = r.uint()?;
    expect(r, b",\"msg\":{\"market_ticker\":")?;
    let market_ticker = r.str()?;
    expect(r, b",\"market_id\":")?;
    let market_id = r.fixed_str::<36>()?;
    expect(r, b",\"price_dollars\":")?;
    let price = r.decimal()?;
    if !(0..=Price::ONE.raw()).contains(&price) {
        return None;
    }
    expect(r, b",\"delta_fp\":")?;
    let delta = r.decimal()?;
    let side = if r.lit(b",\"side\":\"yes\"") {
        YesNo::Yes
    } else if r.lit(b",\"side\":\"no\"") {
        YesNo::No
    } else {
        return None;
    };
    expect(r, b",\"ts\":")?;
    r.fixed_str::<20>()?;
    expect(r, b",\"ts_ms\":")?;
    let ms = i64::try_from(r.uint()?).ok()?;
    let ts = Nanos(ms.checked_mul(1_000_000)?);
    expect(r, b"}}")?;
    if r.at != r.s.len() {
        return None;
    }
    Some(FastDelta {
        sid: Some(sid),
        seq: Some(seq),
        id: None,
        delta: OrderbookDelta {
            market_ticker,
            market_id: Some(market_id),
            price: Price::from_raw(price),
            delta: Qty::from_raw(delta),
            side,
            client_order_id: None,
            subaccount: None,
            ts,
        },
    })
}

/// Decodes `frame` if it is an `orderbook_delta` in the common shape;
/// `None` leaves it to the general decoder (see the module docs).
#[inline]
pub(crate) fn delta(frame: &[u8]) -> Option<FastDelta<'_>> {
    let mut r = Reader {
        s: simdutf8::basic::from_utf8(frame).ok()?,
        at: 0,
    };
    if let Some(env) = in_order(&mut r) {
        return Some(env);
    }
    // Any other order of keys, or the optional fields.
    r.at = 0;
    r.eat(b'{')?;
    let (mut sid, mut seq, mut id) = (None, None, None);
    let mut typed = false;
    let mut msg = None;
    let mut seen = 0u8;
    loop {
        let bit = if r.lit(b"\"type\":\"orderbook_delta\"") {
            typed = true;
            1
        } else if r.lit(b"\"msg\":") {
            msg = Some(body(&mut r)?);
            2
        } else if r.lit(b"\"sid\":") {
            sid = Some(r.uint()?);
            4
        } else if r.lit(b"\"seq\":") {
            seq = Some(r.uint()?);
            8
        } else if r.lit(b"\"id\":") {
            id = Some(r.uint()?);
            16
        } else {
            return None;
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        if !r.more()? {
            break;
        }
    }
    if !typed || r.at != frame.len() {
        return None;
    }
    Some(FastDelta {
        sid,
        seq,
        id,
        delta: msg?,
    })
}

#[cfg(test)]
mod tests {
    use super::{digit_count, digits_value, stops, word};

    #[test]
    fn words_near_the_end_are_padded_with_quotes() {
        let frame: Vec<u8> = (b'a'..=b'z').collect();
        for len in 0..frame.len() {
            let b = &frame[..len];
            for at in 0..len + 10 {
                let mut want = [b'"'; 8];
                for (i, w) in want.iter_mut().enumerate() {
                    if let Some(&c) = b.get(at + i) {
                        *w = c;
                    }
                }
                assert_eq!(word(b, at), u64::from_le_bytes(want), "len {len} at {at}");
            }
        }
    }

    #[test]
    fn digit_runs_read_like_a_byte_loop() {
        let samples: [&[u8]; 8] = [
            b"0",
            b"12345678",
            b"9876543x",
            b"1\"",
            b"-1",
            b"00000001",
            b"5:",
            b"/9:0",
        ];
        for s in samples {
            let w = word(s, 0);
            let n = s.iter().take(8).take_while(|c| c.is_ascii_digit()).count();
            assert_eq!(digit_count(w), n, "{s:?}");
            if n > 0 {
                let v = s[..n]
                    .iter()
                    .fold(0u64, |v, &c| v * 10 + u64::from(c - b'0'));
                assert_eq!(digits_value(w, n), v, "{s:?}");
            }
        }
        // Every byte value next to a digit: only '0'..='9' count.
        for b in 0..=255u8 {
            let w = word(&[b'7', b], 0);
            let want = if b.is_ascii_digit() { 2 } else { 1 };
            assert_eq!(digit_count(w), want, "byte {b}");
        }
    }

    #[test]
    fn string_stops_find_the_first_special_byte() {
        for i in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x1f] {
                for other in [b' ', b'a', 0x7f, 0x80, 0xff] {
                    let mut b = [other; 8];
                    b[i] = special;
                    let m = stops(u64::from_le_bytes(b));
                    assert_eq!(
                        (m.trailing_zeros() / 8) as usize,
                        i,
                        "{special} {other} {i}"
                    );
                }
            }
        }
        assert_eq!(stops(u64::from_le_bytes(*b"abc ~\x7f\x80\xff")), 0);
    }
}
