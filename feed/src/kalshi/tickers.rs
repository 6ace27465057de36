//! Ticker to market index, for every book and trade frame.
//!
//! An open-addressing table keyed by the ticker's first and last eight
//! bytes and its length. For tickers of at most 16 bytes those words hold
//! every byte, so a match is exact without a byte comparison; longer
//! tickers are compared in full once the words match. The table is built
//! once from the operator's markets and never grows, so a lookup is two
//! word loads, a multiply and, in the usual case, one slot.
//!
//! The tickers looked up come from the venue, but the table's contents are
//! the operator's and fixed, so a lookup costs the same whatever it is
//! asked for: no flood resistance is needed.

/// A ticker's first and last eight bytes (zero-padded when shorter) and
/// length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Key {
    first: u64,
    last: u64,
    len: usize,
}

impl Key {
    #[inline]
    fn of(t: &[u8]) -> Key {
        let (first, last) = match (t.first_chunk::<8>(), t.last_chunk::<8>()) {
            (Some(f), Some(l)) => (u64::from_le_bytes(*f), u64::from_le_bytes(*l)),
            _ => {
                let mut w = [0u8; 8];
                for (d, s) in w.iter_mut().zip(t) {
                    *d = *s;
                }
                (u64::from_le_bytes(w), 0)
            }
        };
        Key {
            first,
            last,
            len: t.len(),
        }
    }

    #[inline]
    fn slot(self, mask: usize) -> usize {
        let h = (self.first ^ self.last.rotate_left(29) ^ self.len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 32) as usize & mask
    }
}

#[derive(Clone, Debug)]
pub(crate) struct TickerIndex {
    /// `(key, market)`; a key of length 0 is an empty slot.
    slots: Vec<(Key, usize)>,
    tickers: Vec<String>,
    mask: usize,
}

impl TickerIndex {
    /// An index of `tickers` (market `i` is `tickers[i]`); `Err(i)` names
    /// the first ticker that repeats an earlier one or is empty.
    pub(crate) fn new(tickers: &[&str]) -> Result<TickerIndex, usize> {
        let size = (tickers.len() * 4).next_power_of_two().max(8);
        let mut index = TickerIndex {
            slots: vec![(Key::default(), 0); size],
            tickers: tickers.iter().map(|t| (*t).to_owned()).collect(),
            mask: size - 1,
        };
        for (m, t) in tickers.iter().enumerate() {
            if t.is_empty() || index.get(t).is_some() {
                return Err(m);
            }
            let key = Key::of(t.as_bytes());
            let mut s = key.slot(index.mask);
            while index.slots[s].0.len != 0 {
                s = (s + 1) & index.mask;
            }
            index.slots[s] = (key, m);
        }
        Ok(index)
    }

    /// The market of `ticker`, if configured.
    #[inline]
    pub(crate) fn get(&self, ticker: &str) -> Option<usize> {
        let key = Key::of(ticker.as_bytes());
        let mut s = key.slot(self.mask);
        loop {
            let &(k, m) = self.slots.get(s)?;
            if k.len == 0 {
                return None;
            }
            if k == key && (key.len <= 16 || self.tickers.get(m)?.as_str() == ticker) {
                return Some(m);
            }
            s = (s + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TickerIndex;

    #[test]
    fn finds_every_ticker_and_nothing_else() {
        let tickers: Vec<String> = (0..300)
            .map(|i| match i % 4 {
                0 => format!("T{i}"),
                1 => format!("KXBTCD-26DEC31-T{i}.99"),
                2 => format!("KXBTCD-26DEC31-X{i}.99"),
                _ => format!("{i:016}"),
            })
            .collect();
        let refs: Vec<&str> = tickers.iter().map(String::as_str).collect();
        let index = TickerIndex::new(&refs).expect("index");
        for (m, t) in refs.iter().enumerate() {
            assert_eq!(index.get(t), Some(m), "{t}");
        }
        // Same first and last eight bytes and length, different middle.
        assert_eq!(index.get("KXBTCD-26DEC31-Y1.99"), None);
        assert_eq!(index.get("KXBTCD-26DEC31-T1.9"), None);
        for miss in [
            "",
            "T",
            "T1x",
            "0000000000000001",
            "000000000000000",
            "T0\0",
        ] {
            assert_eq!(index.get(miss), None, "{miss:?}");
        }
        assert_eq!(TickerIndex::new(&["A", "B", "A"]).err(), Some(2));
        assert_eq!(TickerIndex::new(&["A", ""]).err(), Some(1));
    }
}
