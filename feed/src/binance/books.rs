//! Several symbols on one combined stream, each routed to its own book.
//!
//! A combined stream (`/stream?streams=sushiusdt@depth@100ms/...`) carries
//! the diffs of every symbol subscribed; each names its symbol in `s`. A
//! REST snapshot does not: the symbol is in the request's URL
//! ([`snapshot_symbol`]), and the caller passes it with the snapshot.
//! Symbols match without regard to ASCII case (streams are named in lower
//! case, payloads and URLs in upper case).

use super::config::{DiffOutcome, SnapshotOutcome};
use super::decode::{DepthUpdate, Snapshot};
use super::sync::DepthSync;
use pt_engine::model::{BookUpdate, Nanos};

/// The books of one stream, by symbol; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Books {
    books: Vec<(Box<str>, DepthSync)>,
    unknown_symbols: u64,
}

/// A symbol was added twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateSymbol(pub String);

impl core::fmt::Display for DuplicateSymbol {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "symbol {:?} has a book already", self.0)
    }
}

impl std::error::Error for DuplicateSymbol {}

impl Books {
    /// No books.
    pub fn new() -> Books {
        Books::default()
    }

    /// Adds the book of `symbol`.
    pub fn add(&mut self, symbol: &str, sync: DepthSync) -> Result<(), DuplicateSymbol> {
        if self.get(symbol.as_bytes()).is_some() {
            return Err(DuplicateSymbol(symbol.to_owned()));
        }
        self.books.push((symbol.into(), sync));
        Ok(())
    }

    fn index(&self, symbol: &[u8]) -> Option<usize> {
        // A linear scan: a stream carries a handful of symbols, and
        // comparing short byte strings is cheaper than hashing them.
        self.books
            .iter()
            .position(|(s, _)| s.as_bytes().eq_ignore_ascii_case(symbol))
    }

    /// The book of `symbol`.
    pub fn get(&self, symbol: &[u8]) -> Option<&DepthSync> {
        self.index(symbol).map(|i| &self.books[i].1)
    }

    /// The book of `symbol`, to change.
    pub fn get_mut(&mut self, symbol: &[u8]) -> Option<&mut DepthSync> {
        self.index(symbol).map(|i| &mut self.books[i].1)
    }

    /// Every book with its symbol, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &DepthSync)> {
        self.books.iter().map(|(s, b)| (&**s, b))
    }

    /// The symbols whose book waits for a REST snapshot.
    pub fn needing_snapshot(&self) -> impl Iterator<Item = &str> {
        self.iter()
            .filter(|(_, b)| b.needs_snapshot())
            .map(|(s, _)| s)
    }

    /// Diffs and snapshots for a symbol with no book (counted, dropped).
    pub fn unknown_symbols(&self) -> u64 {
        self.unknown_symbols
    }

    /// Routes a diff to its symbol's book; `None` (counted) when there is
    /// none.
    #[inline]
    pub fn on_diff(
        &mut self,
        diff: &DepthUpdate<'_>,
        recv_ts: Nanos,
        emit: impl FnMut(BookUpdate),
    ) -> Option<DiffOutcome> {
        let Some(i) = self.index(diff.symbol) else {
            self.unknown_symbols += 1;
            return None;
        };
        Some(self.books[i].1.on_diff(diff, recv_ts, emit))
    }

    /// Gives `symbol`'s book its snapshot; `None` (counted) when there is
    /// no such book.
    pub fn on_snapshot(
        &mut self,
        symbol: &[u8],
        snap: &Snapshot<'_>,
        recv_ts: Nanos,
        emit: impl FnMut(BookUpdate),
    ) -> Option<SnapshotOutcome> {
        let Some(i) = self.index(symbol) else {
            self.unknown_symbols += 1;
            return None;
        };
        Some(self.books[i].1.on_snapshot(snap, recv_ts, emit))
    }
}

/// The `symbol` query parameter of a REST depth request's URL
/// (`https://fapi.binance.com/fapi/v1/depth?symbol=SUSHIUSDT&limit=1000`
/// gives `SUSHIUSDT`); `None` when there is none or it is empty.
pub fn snapshot_symbol(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("symbol="))
        .filter(|s| !s.is_empty())
}
