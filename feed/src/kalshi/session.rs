//! A Kalshi WebSocket v2 market-data session, without I/O.
//!
//! The session subscribes to `orderbook_delta` (with `use_yes_price: true`),
//! `trade` and `ticker` for the configured markets, decodes every frame, and
//! turns book and trade messages into engine events. It is a state machine
//! fed frames and connection changes; the connection ([`super::feed`]) or a
//! test drives it, and sends the commands it queues.
//!
//! # Sequence numbers and recovery
//!
//! `seq` counts per subscription across all its markets. The session keeps
//! the last one seen on each subscription:
//!
//! - `seq` at or below the last is a duplicate or a late message: dropped
//!   and counted.
//! - `seq` above the last + 1 is a gap: every market of the subscription
//!   goes stale (a `Status`/`Gap` event for each, which the book stage turns
//!   into a stale book), the session asks for fresh snapshots
//!   (`update_subscription`, action `get_snapshot`) and drops that market's
//!   deltas until its snapshot arrives. A book resumes only from a
//!   snapshot.
//! - If `get_snapshot` is refused, or the venue ends the subscription with
//!   a terminal error (10, channel error; 25, buffer overflow), the session
//!   subscribes again; the new subscription starts with snapshots.
//! - A lost connection makes every market stale; on the next connection
//!   the session subscribes again from scratch.
//!
//! Heartbeat pings are answered by the WebSocket layer.
//!
//! # Kinds passed over
//!
//! Frames the session does not use because of their type are counted by
//! type name ([`Session::unhandled_kinds`]): a `type` the decoder does not
//! know (a decode error too) and the known types of channels the session
//! does not subscribe to (`fill`, `market_lifecycle_v2`, ...). Answers to
//! its own commands (`ok`, `unsubscribed`, `list_subscriptions`) need no
//! action and are not counted there.
//!
//! Steady state (deltas and trades on a healthy subscription) allocates
//! nothing: commands are written into a reused buffer, markets are found
//! by ticker in a map built at start.

use super::events::delta_event;
use super::tickers::TickerIndex;
use super::{Decoder, EventSource, Msg, OrderbookDelta, decode::MsgType, to_events};
use crate::kinds::UnknownKinds;
use pt_engine::model::{
    EventKind, Header, InstrumentId, MarketEvent, MarketStatus, Nanos, VenueId,
};
use std::io::Write as _;

/// One market to follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Market {
    /// Kalshi's market ticker.
    pub ticker: String,
    /// The engine's instrument for it.
    pub instrument: InstrumentId,
}

/// What to subscribe to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// The markets.
    pub markets: Vec<Market>,
    /// The venue id written into event headers.
    pub venue: VenueId,
    /// Also subscribe to `trade`.
    pub trades: bool,
    /// Also subscribe to `ticker`.
    pub ticker: bool,
}

/// A ticker the session cannot put in a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfigError(pub String);

impl core::fmt::Display for SessionConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SessionConfigError {}

/// What the session has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionCounters {
    /// Frames received.
    pub frames: u64,
    /// Frames that did not decode.
    pub decode_errors: u64,
    /// Book snapshots applied.
    pub snapshots: u64,
    /// Book deltas passed on.
    pub deltas: u64,
    /// Trades passed on.
    pub trades: u64,
    /// Ticker messages seen.
    pub tickers: u64,
    /// Sequence gaps detected.
    pub gaps: u64,
    /// Messages dropped as duplicates or late (seq not above the last).
    pub duplicates: u64,
    /// Deltas dropped because their market waits for a snapshot.
    pub dropped_while_stale: u64,
    /// Snapshot requests sent (after gaps and for resyncs).
    pub snapshot_requests: u64,
    /// Markets the book stage found inconsistent and asked a snapshot for
    /// ([`Session::resync`]).
    pub resyncs: u64,
    /// Subscriptions made again (refused snapshot, terminal error).
    pub resubscribes: u64,
    /// Error messages from the venue.
    pub venue_errors: u64,
    /// Book messages for markets not configured, or from a subscription
    /// that is no longer current.
    pub ignored: u64,
    /// Connections lost.
    pub disconnects: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Book,
    Trade,
    Ticker,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Book => "orderbook_delta",
            Channel::Trade => "trade",
            Channel::Ticker => "ticker",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubState {
    /// Not subscribed (before the connection opens).
    Idle,
    /// `subscribe` sent with this command id.
    Pending(u64),
    /// Subscribed as this sid.
    Active(u64),
}

#[derive(Clone, Copy, Debug)]
struct Sub {
    channel: Channel,
    state: SubState,
    last_seq: Option<u64>,
    /// The command id of an outstanding `get_snapshot`.
    snapshot_cmd: Option<u64>,
}

impl Sub {
    fn new(channel: Channel) -> Sub {
        Sub {
            channel,
            state: SubState::Idle,
            last_seq: None,
            snapshot_cmd: None,
        }
    }

    fn sid(&self) -> Option<u64> {
        match self.state {
            SubState::Active(sid) => Some(sid),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
struct MarketState {
    instrument: InstrumentId,
    /// A snapshot was applied since the last gap or connection.
    whole: bool,
}

/// The session; see the module docs.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    markets: Vec<MarketState>,
    by_ticker: TickerIndex,
    subs: Vec<Sub>,
    next_id: u64,
    decoder: Decoder,
    /// Queued commands, back to back; `cmd_ends` marks where each ends.
    commands: Vec<u8>,
    cmd_ends: Vec<usize>,
    counters: SessionCounters,
    unhandled: UnknownKinds,
}

impl Session {
    /// A session for `config`. Tickers must be 1–128 characters of
    /// `A-Z a-z 0-9 . _ -`, and not repeated.
    pub fn new(config: SessionConfig) -> Result<Session, SessionConfigError> {
        if config.markets.is_empty() {
            return Err(SessionConfigError(
                "no markets configured; expected at least one market ticker".into(),
            ));
        }
        for m in &config.markets {
            let ok = (1..=128).contains(&m.ticker.len())
                && m.ticker
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !ok {
                return Err(SessionConfigError(format!(
                    "market ticker {:?} is not valid; expected 1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
                    m.ticker
                )));
            }
        }
        let tickers: Vec<&str> = config.markets.iter().map(|m| m.ticker.as_str()).collect();
        let by_ticker = TickerIndex::new(&tickers).map_err(|i| {
            SessionConfigError(format!(
                "market ticker {:?} is configured twice",
                tickers[i]
            ))
        })?;
        let mut subs = vec![Sub::new(Channel::Book)];
        if config.trades {
            subs.push(Sub::new(Channel::Trade));
        }
        if config.ticker {
            subs.push(Sub::new(Channel::Ticker));
        }
        Ok(Session {
            markets: config
                .markets
                .iter()
                .map(|m| MarketState {
                    instrument: m.instrument,
                    whole: false,
                })
                .collect(),
            by_ticker,
            subs,
            next_id: 1,
            decoder: Decoder::new(),
            commands: Vec::with_capacity(4096),
            cmd_ends: Vec::with_capacity(16),
            counters: SessionCounters::default(),
            unhandled: UnknownKinds::default(),
            config,
        })
    }

    /// Counters so far.
    pub fn counters(&self) -> SessionCounters {
        self.counters
    }

    /// The decoder, with its per-type and per-error counters.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Frames passed over for their type, by type name: unknown types as
    /// sent, and known types the session has no use for (see the module
    /// docs).
    pub fn unhandled_kinds(&self) -> &UnknownKinds {
        &self.unhandled
    }

    /// Whether every market's book has been whole since its last snapshot.
    pub fn all_whole(&self) -> bool {
        self.markets.iter().all(|m| m.whole)
    }

    /// The book stage refused a change to `instrument`'s book (a level
    /// below zero, a price off the grid) or missed data on an overflowing
    /// link (its update carried `book_flags::RESYNC`): the book no longer
    /// matches the venue's. Marks the market stale (a `Status`/`Gap` event
    /// to `emit`; its deltas are dropped from now on) and queues
    /// `get_snapshot` for that market alone. `false`, doing nothing, when
    /// the instrument is not the session's, is already waiting for a
    /// snapshot, or there is no book subscription yet.
    pub fn resync(
        &mut self,
        instrument: InstrumentId,
        now: Nanos,
        emit: &mut dyn FnMut(MarketEvent),
    ) -> bool {
        let Some(m) = self.markets.iter().position(|s| s.instrument == instrument) else {
            return false;
        };
        let Some(i) = self.subs.iter().position(|s| s.channel == Channel::Book) else {
            return false;
        };
        if !self.markets[m].whole || self.subs[i].sid().is_none() {
            return false;
        }
        self.counters.resyncs += 1;
        self.go_stale(m, 0, 0, now, emit);
        self.request_snapshots(i, Some(m));
        true
    }

    /// Whether `instrument`'s book is whole (a snapshot applied since the
    /// last gap, resync or connection); `None` for an instrument the
    /// session does not follow.
    pub fn is_whole(&self, instrument: InstrumentId) -> Option<bool> {
        self.markets
            .iter()
            .find(|m| m.instrument == instrument)
            .map(|m| m.whole)
    }

    /// The connection opened: subscribe to every channel.
    pub fn on_open(&mut self) {
        for i in 0..self.subs.len() {
            self.subscribe(i);
        }
    }

    /// The connection was lost: every book is stale until the next
    /// connection's snapshots.
    pub fn on_disconnect(&mut self, now: Nanos, emit: &mut dyn FnMut(MarketEvent)) {
        self.counters.disconnects += 1;
        for s in &mut self.subs {
            *s = Sub::new(s.channel);
        }
        self.commands.clear();
        self.cmd_ends.clear();
        for m in 0..self.markets.len() {
            self.go_stale(m, 0, 0, now, emit);
        }
    }

    /// Hands each queued command to `send`, oldest first, and forgets them.
    pub fn drain_commands(&mut self, send: &mut dyn FnMut(&[u8])) {
        let mut start = 0;
        for &end in &self.cmd_ends {
            send(&self.commands[start..end]);
            start = end;
        }
        self.commands.clear();
        self.cmd_ends.clear();
    }

    /// Handles one text frame received at `recv_ts`.
    pub fn on_frame(&mut self, frame: &[u8], recv_ts: Nanos, emit: &mut dyn FnMut(MarketEvent)) {
        self.counters.frames += 1;
        // Most of a book feed: taken as parts, without an `Envelope` copy.
        if let Some(fast) = super::fast::delta(frame) {
            self.decoder.count_fast_delta();
            self.on_delta(fast.sid, fast.seq, &fast.delta, recv_ts, emit);
            return;
        }
        let env = match self.decoder.decode_general(frame) {
            Ok(env) => env,
            Err(e) => {
                self.counters.decode_errors += 1;
                if let Some(kind) = e.refused_kind(frame) {
                    self.unhandled.count(kind);
                }
                return;
            }
        };
        match env.msg {
            Msg::Subscribed(s) => {
                if let Some(sub) = self
                    .subs
                    .iter_mut()
                    .find(|sub| env.id.is_some_and(|id| sub.state == SubState::Pending(id)))
                {
                    sub.state = SubState::Active(s.sid);
                    sub.last_seq = None;
                }
            }
            Msg::Error(e) => {
                self.counters.venue_errors += 1;
                let refused_snapshot = self
                    .subs
                    .iter()
                    .position(|s| env.id.is_some() && s.snapshot_cmd == env.id);
                let ended = self.subs.iter().position(|s| {
                    e.code.is_terminal() && (env.sid.is_none() || s.sid() == env.sid)
                });
                let refused_subscribe = self
                    .subs
                    .iter()
                    .position(|s| env.id.is_some_and(|id| s.state == SubState::Pending(id)));
                if let Some(i) = refused_snapshot.or(ended).or(refused_subscribe) {
                    self.counters.resubscribes += 1;
                    self.resubscribe(i, recv_ts, emit);
                }
            }
            Msg::OrderbookSnapshot(ref s) => {
                let Some(m) = self.book_message(env.sid, env.seq, s.market_ticker, recv_ts, emit)
                else {
                    return;
                };
                self.markets[m].whole = true;
                self.counters.snapshots += 1;
                if self.all_whole() {
                    // Every market answered: no snapshot request is open.
                    self.subs.iter_mut().for_each(|s| s.snapshot_cmd = None);
                }
                let src = self.source(m);
                to_events(&env, &src, recv_ts, &mut *emit);
            }
            Msg::OrderbookDelta(ref d) => self.on_delta(env.sid, env.seq, d, recv_ts, emit),
            Msg::Trade(ref t) => {
                let Some(m) = self.by_ticker.get(t.market_ticker) else {
                    self.counters.ignored += 1;
                    return;
                };
                if let (Some(i), Some(seq)) = (self.sub_of(Channel::Trade, env.sid), env.seq) {
                    // A trade that was missed cannot be asked for again; a
                    // gap is only counted.
                    match self.subs[i].last_seq {
                        Some(last) if seq <= last => {
                            self.counters.duplicates += 1;
                            return;
                        }
                        Some(last) if seq > last + 1 => self.counters.gaps += 1,
                        _ => {}
                    }
                    self.subs[i].last_seq = Some(seq);
                }
                self.counters.trades += 1;
                let src = self.source(m);
                to_events(&env, &src, recv_ts, &mut *emit);
            }
            Msg::Ticker(_) => self.counters.tickers += 1,
            // Answers to the session's own commands: nothing to do.
            Msg::Unsubscribed | Msg::Ok(_) | Msg::ListSubscriptions(_) => {}
            // Channels the session does not subscribe to.
            other => self.unhandled.count(other.msg_type().name().as_bytes()),
        }
    }

    fn on_delta(
        &mut self,
        sid: Option<u64>,
        seq: Option<u64>,
        d: &OrderbookDelta<'_>,
        recv_ts: Nanos,
        emit: &mut dyn FnMut(MarketEvent),
    ) {
        let Some(m) = self.book_message(sid, seq, d.market_ticker, recv_ts, emit) else {
            return;
        };
        if !self.markets[m].whole {
            self.counters.dropped_while_stale += 1;
            return;
        }
        self.counters.deltas += 1;
        let src = self.source(m);
        emit(delta_event(d, seq.unwrap_or(0), &src, recv_ts));
    }

    fn source(&self, m: usize) -> EventSource {
        EventSource {
            venue: self.config.venue,
            instrument: self.markets[m].instrument,
            use_yes_price: true,
        }
    }

    fn sub_of(&self, channel: Channel, sid: Option<u64>) -> Option<usize> {
        let sid = sid?;
        self.subs
            .iter()
            .position(|s| s.channel == channel && s.sid() == Some(sid))
    }

    /// Checks a book message's subscription and sequence number; returns
    /// its market when the message is to be used.
    fn book_message(
        &mut self,
        sid: Option<u64>,
        seq: Option<u64>,
        ticker: &str,
        recv_ts: Nanos,
        emit: &mut dyn FnMut(MarketEvent),
    ) -> Option<usize> {
        let Some(i) = self.sub_of(Channel::Book, sid) else {
            self.counters.ignored += 1;
            return None;
        };
        let Some(m) = self.by_ticker.get(ticker) else {
            self.counters.ignored += 1;
            return None;
        };
        let seq = seq?;
        match self.subs[i].last_seq {
            Some(last) if seq <= last => {
                self.counters.duplicates += 1;
                return None;
            }
            Some(last) if seq > last + 1 => {
                self.counters.gaps += 1;
                for k in 0..self.markets.len() {
                    self.go_stale(k, last + 1, seq, recv_ts, emit);
                }
                self.request_snapshots(i, None);
            }
            _ => {}
        }
        self.subs[i].last_seq = Some(seq);
        Some(m)
    }

    /// Marks market `m` stale and tells the book stage.
    fn go_stale(
        &mut self,
        m: usize,
        expected: u64,
        received: u64,
        now: Nanos,
        emit: &mut dyn FnMut(MarketEvent),
    ) {
        self.markets[m].whole = false;
        let mut header = Header::new(EventKind::Status, self.markets[m].instrument, 0, now);
        header.venue = self.config.venue;
        emit(MarketEvent {
            header,
            status: MarketStatus::Gap,
            gap_expected: expected,
            gap_received: received,
            ..MarketEvent::default()
        });
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn push_command(&mut self) {
        self.cmd_ends.push(self.commands.len());
    }

    /// The JSON list of every ticker, or of market `only`'s.
    fn write_tickers(&mut self, only: Option<usize>) {
        self.commands.extend_from_slice(b"[");
        let markets = self.config.markets.iter().enumerate();
        for (k, m) in markets.filter(|(k, _)| only.is_none_or(|o| o == *k)) {
            if k > 0 && only.is_none() {
                self.commands.push(b',');
            }
            // Tickers were checked to need no escaping.
            self.commands.push(b'"');
            self.commands.extend_from_slice(m.ticker.as_bytes());
            self.commands.push(b'"');
        }
        self.commands.extend_from_slice(b"]");
    }

    fn subscribe(&mut self, i: usize) {
        let id = self.take_id();
        let channel = self.subs[i].channel;
        let _ = write!(
            self.commands,
            r#"{{"id":{id},"cmd":"subscribe","params":{{"channels":["{}"],"market_tickers":"#,
            channel.name()
        );
        self.write_tickers(None);
        if channel == Channel::Book {
            self.commands.extend_from_slice(br#","use_yes_price":true"#);
        }
        self.commands.extend_from_slice(b"}}");
        self.push_command();
        self.subs[i] = Sub {
            state: SubState::Pending(id),
            ..Sub::new(channel)
        };
    }

    /// Queues `get_snapshot` on subscription `i` for every market, or for
    /// market `only`.
    fn request_snapshots(&mut self, i: usize, only: Option<usize>) {
        let Some(sid) = self.subs[i].sid() else {
            return;
        };
        let id = self.take_id();
        let _ = write!(
            self.commands,
            r#"{{"id":{id},"cmd":"update_subscription","params":{{"sids":[{sid}],"action":"get_snapshot","market_tickers":"#
        );
        self.write_tickers(only);
        self.commands.extend_from_slice(b"}}");
        self.push_command();
        self.subs[i].snapshot_cmd = Some(id);
        self.counters.snapshot_requests += 1;
    }

    fn resubscribe(&mut self, i: usize, now: Nanos, emit: &mut dyn FnMut(MarketEvent)) {
        if let Some(sid) = self.subs[i].sid() {
            let id = self.take_id();
            let _ = write!(
                self.commands,
                r#"{{"id":{id},"cmd":"unsubscribe","params":{{"sids":[{sid}]}}}}"#
            );
            self.push_command();
        }
        if self.subs[i].channel == Channel::Book {
            for m in 0..self.markets.len() {
                if self.markets[m].whole {
                    self.go_stale(m, 0, 0, now, emit);
                }
            }
        }
        self.subscribe(i);
    }
}

impl Session {
    /// The number of messages of `t` decoded so far.
    pub fn decoded(&self, t: MsgType) -> u64 {
        self.decoder.counters.decoded(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new(SessionConfig {
            markets: vec![
                Market {
                    ticker: "A-1".into(),
                    instrument: InstrumentId(1),
                },
                Market {
                    ticker: "B-2".into(),
                    instrument: InstrumentId(2),
                },
            ],
            venue: VenueId(1),
            trades: false,
            ticker: false,
        })
        .unwrap()
    }

    fn commands(s: &mut Session) -> Vec<String> {
        let mut out = Vec::new();
        s.drain_commands(&mut |c| out.push(String::from_utf8(c.to_vec()).unwrap()));
        out
    }

    fn feed(s: &mut Session, frame: &str) -> Vec<MarketEvent> {
        let mut out = Vec::new();
        s.on_frame(frame.as_bytes(), Nanos(1), &mut |e| out.push(e));
        out
    }

    fn snapshot(seq: u64, ticker: &str) -> String {
        format!(
            r#"{{"type":"orderbook_snapshot","sid":5,"seq":{seq},"msg":{{"market_ticker":"{ticker}","yes_dollars_fp":[["0.4000","10.00"]],"no_dollars_fp":[["0.5500","3.00"]]}}}}"#
        )
    }

    fn delta(seq: u64, ticker: &str) -> String {
        format!(
            r#"{{"type":"orderbook_delta","sid":5,"seq":{seq},"msg":{{"market_ticker":"{ticker}","price_dollars":"0.4000","delta_fp":"1.00","side":"yes","ts_ms":1}}}}"#
        )
    }

    /// Subscribed as sid 5, both books whole from seq 1 and 2.
    fn subscribed() -> Session {
        let mut s = session();
        s.on_open();
        let sent = commands(&mut s);
        assert_eq!(
            sent,
            [
                r#"{"id":1,"cmd":"subscribe","params":{"channels":["orderbook_delta"],"market_tickers":["A-1","B-2"],"use_yes_price":true}}"#
            ]
        );
        feed(
            &mut s,
            r#"{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":5}}"#,
        );
        assert_eq!(feed(&mut s, &snapshot(1, "A-1")).len(), 4);
        assert!(!s.all_whole());
        feed(&mut s, &snapshot(2, "B-2"));
        assert!(s.all_whole());
        s
    }

    #[test]
    fn deltas_flow_and_duplicates_are_dropped() {
        let mut s = subscribed();
        assert_eq!(feed(&mut s, &delta(3, "A-1")).len(), 1);
        assert!(feed(&mut s, &delta(3, "A-1")).is_empty());
        assert!(feed(&mut s, &delta(2, "B-2")).is_empty());
        assert_eq!(s.counters().duplicates, 2);
        assert!(commands(&mut s).is_empty());
    }

    #[test]
    fn a_resync_asks_for_one_market_and_drops_its_deltas_until_then() {
        let mut s = subscribed();
        let mut out = Vec::new();
        assert!(s.resync(InstrumentId(2), Nanos(7), &mut |e| out.push(e)));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, MarketStatus::Gap);
        assert_eq!(out[0].header.instrument, InstrumentId(2));
        assert_eq!(
            commands(&mut s),
            [
                r#"{"id":2,"cmd":"update_subscription","params":{"sids":[5],"action":"get_snapshot","market_tickers":["B-2"]}}"#
            ]
        );
        // Asked once: a second refusal before the snapshot does nothing,
        // and neither does an instrument the session does not have.
        assert!(!s.resync(InstrumentId(2), Nanos(8), &mut |e| out.push(e)));
        assert!(!s.resync(InstrumentId(9), Nanos(8), &mut |e| out.push(e)));
        assert_eq!(out.len(), 1);
        // B's deltas wait for its snapshot; A's flow.
        assert!(feed(&mut s, &delta(3, "B-2")).is_empty());
        assert_eq!(feed(&mut s, &delta(4, "A-1")).len(), 1);
        assert_eq!(s.counters().dropped_while_stale, 1);
        assert_eq!(feed(&mut s, &snapshot(5, "B-2")).len(), 4);
        assert_eq!(feed(&mut s, &delta(6, "B-2")).len(), 1);
        assert_eq!(s.counters().resyncs, 1);
        assert_eq!(s.counters().gaps, 0);
    }

    #[test]
    fn a_gap_makes_every_book_stale_and_asks_for_snapshots() {
        let mut s = subscribed();
        let out = feed(&mut s, &delta(5, "A-1"));
        // Two gap statuses, and the delta itself is not applied.
        assert_eq!(out.len(), 2);
        assert!(
            out.iter().all(|e| e.status == MarketStatus::Gap
                && e.gap_expected == 3
                && e.gap_received == 5)
        );
        assert_eq!(
            commands(&mut s),
            [
                r#"{"id":2,"cmd":"update_subscription","params":{"sids":[5],"action":"get_snapshot","market_tickers":["A-1","B-2"]}}"#
            ]
        );
        // Deltas wait for their market's snapshot.
        assert!(feed(&mut s, &delta(6, "B-2")).is_empty());
        feed(&mut s, &snapshot(7, "B-2"));
        assert_eq!(feed(&mut s, &delta(8, "B-2")).len(), 1);
        assert!(feed(&mut s, &delta(9, "A-1")).is_empty());
        feed(&mut s, &snapshot(10, "A-1"));
        assert!(s.all_whole());
        assert_eq!(s.counters().dropped_while_stale, 3);
        assert_eq!(s.counters().gaps, 1);
    }

    #[test]
    fn a_refused_snapshot_or_a_terminal_error_resubscribes() {
        let mut s = subscribed();
        feed(&mut s, &delta(9, "A-1"));
        commands(&mut s);
        // The get_snapshot (id 2) is refused.
        feed(
            &mut s,
            r#"{"id":2,"type":"error","msg":{"code":7,"msg":"Unknown subscription ID"}}"#,
        );
        assert_eq!(
            commands(&mut s),
            [
                r#"{"id":3,"cmd":"unsubscribe","params":{"sids":[5]}}"#,
                r#"{"id":4,"cmd":"subscribe","params":{"channels":["orderbook_delta"],"market_tickers":["A-1","B-2"],"use_yes_price":true}}"#
            ]
        );
        // Messages of the old sid are ignored from now on.
        assert!(feed(&mut s, &snapshot(10, "A-1")).is_empty());
        feed(
            &mut s,
            r#"{"id":4,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":6}}"#,
        );
        let fresh = snapshot(1, "A-1").replace(r#""sid":5"#, r#""sid":6"#);
        assert_eq!(feed(&mut s, &fresh).len(), 4);

        // A buffer overflow (25) ends the subscription: subscribe again.
        feed(
            &mut s,
            r#"{"sid":6,"type":"error","msg":{"code":25,"msg":"Subscription buffer overflow"}}"#,
        );
        let sent = commands(&mut s);
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(sent[1].contains(r#""cmd":"subscribe""#));
        assert_eq!(s.counters().resubscribes, 2);
        assert!(!s.all_whole());
    }

    #[test]
    fn a_lost_connection_makes_every_book_stale_and_bad_frames_are_counted() {
        let mut s = subscribed();
        let mut out = Vec::new();
        s.on_disconnect(Nanos(2), &mut |e| out.push(e));
        assert_eq!(out.len(), 2);
        assert!(!s.all_whole());
        assert!(feed(&mut s, "{not json").is_empty());
        assert!(feed(&mut s, &delta(3, "A-1")).is_empty(), "old sid");
        assert_eq!(s.counters().decode_errors, 1);
        s.on_open();
        assert_eq!(commands(&mut s).len(), 1);
    }

    #[test]
    fn frames_passed_over_for_their_type_are_counted_by_name() {
        let mut s = subscribed();
        assert!(s.unhandled_kinds().is_empty());
        let brand_new = r#"{"type":"brand_new","sid":1,"seq":5,"msg":{}}"#;
        assert!(feed(&mut s, brand_new).is_empty());
        assert!(feed(&mut s, brand_new).is_empty());
        // Known, but of a channel the session does not follow.
        let fill = r#"{"type":"fill","sid":9,"msg":{"trade_id":"t","order_id":"o","market_ticker":"A-1","yes_price_dollars":"0.5000","count_fp":"1.00","ts_ms":1}}"#;
        assert!(feed(&mut s, fill).is_empty());
        // Answers to the session's commands are not passed over.
        feed(&mut s, r#"{"id":7,"type":"ok","msg":{}}"#);
        feed(&mut s, r#"{"id":8,"sid":3,"type":"unsubscribed"}"#);
        assert_eq!(s.decoded(MsgType::Fill), 1);
        assert_eq!(s.decoded(MsgType::Ok), 1);
        assert_eq!(s.unhandled_kinds().to_string(), "brand_new=2 fill=1");
        assert_eq!(s.unhandled_kinds().get(b"brand_new"), 2);
        // An unknown type is still a decode error, and the decoder has it
        // by name too.
        assert_eq!(s.counters().decode_errors, 2);
        let d = &s.decoder().counters;
        assert_eq!(
            (d.errors.unknown_type, d.unknown_types.get(b"brand_new")),
            (2, 2)
        );
        // The book subscription is untouched.
        assert_eq!(feed(&mut s, &delta(3, "A-1")).len(), 1);
        assert_eq!(s.counters().gaps, 0);
    }

    #[test]
    fn bad_tickers_are_refused_by_name() {
        let bad = |t: &str| {
            Session::new(SessionConfig {
                markets: vec![Market {
                    ticker: t.into(),
                    instrument: InstrumentId(1),
                }],
                venue: VenueId(1),
                trades: false,
                ticker: false,
            })
            .unwrap_err()
            .to_string()
        };
        assert!(bad("A\"B").contains(r#""A\"B""#));
        assert!(bad("").contains("not valid"));
    }
}
