//! WebSocket v2: the `subscribe`, `unsubscribe`, `update_subscription` and
//! `list_subscriptions` commands; the `orderbook_delta` (snapshot then
//! deltas), `trade`, `ticker`, `fill` and `user_orders` channels; a ping
//! every 10 s (`SimConfig::ping_ms`); Kalshi's numbered error messages.
//!
//! `seq` counts per subscription across all its markets, starting at 1 on
//! the first snapshot; snapshots, deltas and trades carry it. Injected
//! faults (skipped sequence numbers, duplicates, reordering, delay, dropped
//! connections) are applied here, on the way out.

use crate::access::authenticate;
use crate::exchange::{Event, UserId};
use crate::faults::Faults;
use crate::render::{self, Wire};
use crate::state::{Published, Shared, lock};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use rand::Rng as _;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The upgrade: authenticated like a private REST request (signing
/// `GET /trade-api/ws/v2`).
pub async fn upgrade(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    ws: WebSocketUpgrade,
) -> Response {
    let user = match authenticate(&s, &headers, &method, uri.path()) {
        Ok(u) => u,
        Err(r) => return r,
    };
    ws.on_upgrade(move |socket| async move {
        let mut session = Session::new(s, user);
        session.run(socket).await;
    })
    .into_response()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    OrderbookDelta,
    Trade,
    Ticker,
    Fill,
    UserOrders,
}

impl Channel {
    fn parse(name: &str) -> Option<Channel> {
        Some(match name {
            "orderbook_delta" => Channel::OrderbookDelta,
            "trade" => Channel::Trade,
            "ticker" => Channel::Ticker,
            "fill" => Channel::Fill,
            "user_orders" => Channel::UserOrders,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Channel::OrderbookDelta => "orderbook_delta",
            Channel::Trade => "trade",
            Channel::Ticker => "ticker",
            Channel::Fill => "fill",
            Channel::UserOrders => "user_orders",
        }
    }
}

#[derive(Debug)]
struct Sub {
    sid: u64,
    channel: Channel,
    /// Markets; empty means all.
    markets: Vec<String>,
    seq: u64,
    use_yes_price: bool,
    /// Per market, the global batch sequence its last snapshot reflects.
    since: HashMap<String, u64>,
}

impl Sub {
    fn covers(&self, ticker: &str) -> bool {
        self.markets.is_empty() || self.markets.iter().any(|m| m == ticker)
    }
}

/// One client's connection.
struct Session {
    shared: Arc<Shared>,
    user: UserId,
    conn: u64,
    subs: Vec<Sub>,
    next_sid: u64,
    wire: Wire,
    /// Frames held back by the reorder fault.
    held: Option<String>,
    /// The fault settings, read once per command or published batch
    /// rather than per message.
    faults: Faults,
    out: Vec<(Option<(u64, u64)>, String)>,
}

/// A command's failure: Kalshi's code and text.
struct CmdError(u32, &'static str);

const UNABLE: CmdError = CmdError(1, "Unable to process message");
const PARAMS_REQUIRED: CmdError = CmdError(2, "Params required");
const CHANNELS_REQUIRED: CmdError = CmdError(3, "Channels required");
const SIDS_REQUIRED: CmdError = CmdError(4, "Subscription IDs required");
const UNKNOWN_COMMAND: CmdError = CmdError(5, "Unknown command");
const ALREADY_SUBSCRIBED: CmdError = CmdError(6, "Already subscribed");
const UNKNOWN_SID: CmdError = CmdError(7, "Unknown subscription ID");
const UNKNOWN_CHANNEL: CmdError = CmdError(8, "Unknown channel name");
const INVALID_PARAMETER: CmdError = CmdError(11, "Invalid parameter");
const ONE_SID: CmdError = CmdError(12, "Exactly one subscription ID is required");
const UNSUPPORTED_ACTION: CmdError = CmdError(13, "Unsupported action");
const TICKER_REQUIRED: CmdError = CmdError(14, "Market Ticker required");
const ACTION_REQUIRED: CmdError = CmdError(15, "Action required");
const MARKET_NOT_FOUND: CmdError = CmdError(16, "Market not found");

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("conn", &self.conn)
            .field("subs", &self.subs.len())
            .finish()
    }
}

/// Runs client commands through a fresh session (no socket) and returns
/// the frames it would send: the fuzz target's entry point.
#[doc(hidden)]
pub fn commands_for_fuzzing(shared: Arc<Shared>, user: UserId, commands: &[&str]) -> Vec<String> {
    let mut session = Session::new(shared, user);
    for c in commands {
        session.command(c);
    }
    session.out.into_iter().map(|(_, frame)| frame).collect()
}

impl Session {
    fn new(shared: Arc<Shared>, user: UserId) -> Session {
        let conn = shared
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let wire = shared.config.wire;
        Session {
            shared,
            user,
            conn,
            subs: Vec::new(),
            next_sid: 1,
            wire,
            held: None,
            out: Vec::new(),
            faults: Faults::default(),
        }
    }

    async fn run(&mut self, mut socket: WebSocket) {
        let mut feed = self.shared.feed.subscribe();
        let mut dropper = self.shared.drop_generation.subscribe();
        let mut ping =
            tokio::time::interval(Duration::from_millis(self.shared.config.ping_ms.max(1)));
        ping.tick().await;
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => self.command(text.as_str()),
                    Some(Ok(Message::Binary(_))) => self.error(None, &UNABLE),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {} // pings are answered by the library; pongs need nothing
                },
                batch = feed.recv() => match batch {
                    Ok(batch) => self.publish(&batch),
                    Err(RecvError::Lagged(_)) => {
                        // The client fell too far behind: every subscription
                        // is gone and must be made again (Kalshi's code 25).
                        self.subs.clear();
                        self.push_control(json!({"type": "error", "msg": {"code": 25, "msg": "Subscription buffer overflow"}}));
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
                    if socket.send(Message::Ping("heartbeat".into())).await.is_err() {
                        return;
                    }
                }
                _ = dropper.changed() => return, // dropped without a close frame
            }
            if self.flush(&mut socket).await.is_err() {
                return;
            }
        }
    }

    /// Sends what is queued, applying delay and recording probe stamps.
    async fn flush(&mut self, socket: &mut WebSocket) -> Result<(), axum::Error> {
        if self.out.is_empty() {
            return Ok(());
        }
        let delay = self.faults.delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        for (stamp, frame) in std::mem::take(&mut self.out) {
            socket.send(Message::Text(frame.into())).await?;
            if let (Some(probe), Some((sid, seq))) = (&self.shared.probe, stamp) {
                lock(&probe.frames).insert((self.conn, sid, seq), pt_engine::model::Nanos::now().0);
            }
        }
        Ok(())
    }

    fn push_control(&mut self, v: Value) {
        self.out.push((None, v.to_string()));
    }

    fn error(&mut self, id: Option<u64>, e: &CmdError) {
        let mut v = json!({"type": "error", "msg": {"code": e.0, "msg": e.1}});
        if let Some(id) = id {
            v["id"] = json!(id);
        }
        self.push_control(v);
    }

    /// Queues a market-data message for subscription `i`, giving it the
    /// next `seq` when `sequenced`, with the duplicate/reorder/skip and
    /// corrupt-delta faults.
    fn push_md(&mut self, i: usize, kind: &str, mut msg: Value, sequenced: bool) {
        let faults = &self.faults;
        let mut rng = rand::thread_rng();
        if kind == "orderbook_delta"
            && faults.corrupt_delta > 0.0
            && rng.gen_bool(faults.corrupt_delta.min(1.0))
        {
            // Far below any level: the client's book must refuse it.
            msg["delta_fp"] = json!("-1000000.00");
            if msg.get("delta").is_some() {
                msg["delta"] = json!(-1_000_000);
            }
        }
        let sub = &mut self.subs[i];
        let seq = if sequenced {
            if faults.skip_seq > 0.0 && rng.gen_bool(faults.skip_seq.min(1.0)) {
                sub.seq += 1;
            }
            sub.seq += 1;
            Some(sub.seq)
        } else {
            None
        };
        let frame = render::ws(kind, sub.sid, seq, msg).to_string();
        let stamp = seq.map(|q| (sub.sid, q));
        if faults.reorder > 0.0 && self.held.is_none() && rng.gen_bool(faults.reorder.min(1.0)) {
            self.held = Some(frame);
            return;
        }
        self.out.push((stamp, frame.clone()));
        if let Some(held) = self.held.take() {
            self.out.push((None, held));
        }
        if faults.duplicate > 0.0 && rng.gen_bool(faults.duplicate.min(1.0)) {
            self.out.push((None, frame));
        }
    }

    fn command(&mut self, text: &str) {
        self.faults = self.shared.faults();
        let Ok(cmd) = serde_json::from_str::<Value>(text) else {
            return self.error(None, &UNABLE);
        };
        let id = cmd.get("id").and_then(Value::as_u64);
        let params = cmd.get("params");
        let result = match cmd.get("cmd").and_then(Value::as_str) {
            Some("subscribe") => self.subscribe(id, params),
            Some("unsubscribe") => self.unsubscribe(id, params),
            Some("update_subscription") => self.update(id, params),
            Some("list_subscriptions") => {
                let list: Vec<Value> = self
                    .subs
                    .iter()
                    .map(|s| json!({"channel": s.channel.name(), "sid": s.sid}))
                    .collect();
                let mut v = json!({"type": "ok", "msg": list});
                v["id"] = json!(id.unwrap_or(0));
                self.push_control(v);
                Ok(())
            }
            _ => Err(UNKNOWN_COMMAND),
        };
        if let Err(e) = result {
            self.error(id, &e);
        }
    }

    fn tickers(params: &Value) -> Result<Vec<String>, CmdError> {
        let mut out = Vec::new();
        if let Some(t) = params.get("market_ticker") {
            out.push(t.as_str().ok_or(INVALID_PARAMETER)?.to_owned());
        }
        if let Some(list) = params.get("market_tickers") {
            for t in list.as_array().ok_or(INVALID_PARAMETER)? {
                out.push(t.as_str().ok_or(INVALID_PARAMETER)?.to_owned());
            }
        }
        Ok(out)
    }

    fn check_markets(&self, tickers: &[String]) -> Result<(), CmdError> {
        let (_, missing) = self
            .shared
            .read(|ex| tickers.iter().any(|t| ex.market(t).is_none()));
        if missing {
            Err(MARKET_NOT_FOUND)
        } else {
            Ok(())
        }
    }

    fn subscribe(&mut self, id: Option<u64>, params: Option<&Value>) -> Result<(), CmdError> {
        let params = params.ok_or(PARAMS_REQUIRED)?;
        let channels = params
            .get("channels")
            .and_then(Value::as_array)
            .filter(|c| !c.is_empty())
            .ok_or(CHANNELS_REQUIRED)?;
        let channels: Vec<Channel> = channels
            .iter()
            .map(|c| c.as_str().and_then(Channel::parse).ok_or(UNKNOWN_CHANNEL))
            .collect::<Result<_, _>>()?;
        let markets = Self::tickers(params)?;
        self.check_markets(&markets)?;
        let use_yes_price = params
            .get("use_yes_price")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        for channel in channels {
            if channel == Channel::OrderbookDelta && markets.is_empty() {
                return Err(TICKER_REQUIRED);
            }
            if self
                .subs
                .iter()
                .any(|s| s.channel == channel && s.markets == markets)
            {
                return Err(ALREADY_SUBSCRIBED);
            }
            let sid = self.next_sid;
            self.next_sid += 1;
            self.subs.push(Sub {
                sid,
                channel,
                markets: markets.clone(),
                seq: 0,
                use_yes_price,
                since: HashMap::new(),
            });
            let mut ack =
                json!({"type": "subscribed", "msg": {"channel": channel.name(), "sid": sid}});
            if let Some(id) = id {
                ack["id"] = json!(id);
            }
            self.push_control(ack);
            if channel == Channel::OrderbookDelta {
                let i = self.subs.len() - 1;
                self.snapshots(i, &markets);
            }
        }
        Ok(())
    }

    /// Sends a snapshot of each market to subscription `i` and notes the
    /// batch it reflects, so older queued deltas are skipped.
    fn snapshots(&mut self, i: usize, markets: &[String]) {
        for t in markets {
            let (gseq, book) = self.shared.read(|ex| ex.book(t, 0));
            let Some(book) = book else { continue };
            let msg = render::snapshot_msg(t, &book, self.subs[i].use_yes_price, self.wire);
            self.subs[i].since.insert(t.clone(), gseq);
            self.push_md(i, "orderbook_snapshot", msg, true);
        }
    }

    fn sids(params: &Value) -> Result<Vec<u64>, CmdError> {
        let mut out = Vec::new();
        if let Some(s) = params.get("sid") {
            out.push(s.as_u64().ok_or(INVALID_PARAMETER)?);
        }
        if let Some(list) = params.get("sids") {
            for s in list.as_array().ok_or(INVALID_PARAMETER)? {
                out.push(s.as_u64().ok_or(INVALID_PARAMETER)?);
            }
        }
        Ok(out)
    }

    fn unsubscribe(&mut self, id: Option<u64>, params: Option<&Value>) -> Result<(), CmdError> {
        let sids = Self::sids(params.ok_or(PARAMS_REQUIRED)?)?;
        if sids.is_empty() {
            return Err(SIDS_REQUIRED);
        }
        if sids
            .iter()
            .any(|sid| !self.subs.iter().any(|s| s.sid == *sid))
        {
            return Err(UNKNOWN_SID);
        }
        for sid in sids {
            if let Some(pos) = self.subs.iter().position(|s| s.sid == sid) {
                let sub = self.subs.remove(pos);
                let mut v = json!({"type": "unsubscribed", "sid": sid, "seq": sub.seq.max(1)});
                if let Some(id) = id {
                    v["id"] = json!(id);
                }
                self.push_control(v);
            }
        }
        Ok(())
    }

    fn update(&mut self, id: Option<u64>, params: Option<&Value>) -> Result<(), CmdError> {
        let params = params.ok_or(PARAMS_REQUIRED)?;
        let sids = Self::sids(params)?;
        let [sid] = sids[..] else {
            return Err(if sids.is_empty() {
                SIDS_REQUIRED
            } else {
                ONE_SID
            });
        };
        let i = self
            .subs
            .iter()
            .position(|s| s.sid == sid)
            .ok_or(UNKNOWN_SID)?;
        let action = params
            .get("action")
            .and_then(Value::as_str)
            .ok_or(ACTION_REQUIRED)?;
        let markets = Self::tickers(params)?;
        self.check_markets(&markets)?;
        match action {
            "add_markets" => {
                if markets.is_empty() {
                    return Err(TICKER_REQUIRED);
                }
                let fresh: Vec<String> = markets
                    .iter()
                    .filter(|m| !self.subs[i].markets.contains(m))
                    .cloned()
                    .collect();
                self.subs[i].markets.extend(fresh.iter().cloned());
                if self.subs[i].channel == Channel::OrderbookDelta {
                    self.snapshots(i, &fresh);
                }
            }
            "delete_markets" => {
                if markets.is_empty() {
                    return Err(TICKER_REQUIRED);
                }
                let sub = &mut self.subs[i];
                sub.markets.retain(|m| !markets.contains(m));
                for m in &markets {
                    sub.since.remove(m);
                }
            }
            "get_snapshot" => {
                if self.subs[i].channel != Channel::OrderbookDelta {
                    return Err(UNSUPPORTED_ACTION);
                }
                let wanted = if markets.is_empty() {
                    self.subs[i].markets.clone()
                } else {
                    if markets.iter().any(|m| !self.subs[i].covers(m)) {
                        return Err(INVALID_PARAMETER);
                    }
                    markets
                };
                self.snapshots(i, &wanted);
                return Ok(());
            }
            _ => return Err(UNSUPPORTED_ACTION),
        }
        let sub = &self.subs[i];
        let mut v = json!({
            "type": "ok",
            "sid": sid,
            "seq": sub.seq.max(1),
            "msg": {"market_tickers": sub.markets},
        });
        if let Some(id) = id {
            v["id"] = json!(id);
        }
        self.push_control(v);
        Ok(())
    }

    /// Turns one published batch into this session's messages.
    fn publish(&mut self, batch: &Published) {
        self.faults = self.shared.faults();
        for i in 0..self.subs.len() {
            let channel = self.subs[i].channel;
            match channel {
                Channel::Ticker => {
                    for (t, stats) in &batch.tickers {
                        if self.subs[i].covers(t) {
                            let msg = render::ticker_msg(t, stats, batch.ts_ms, self.wire);
                            self.push_md(i, "ticker", msg, false);
                        }
                    }
                }
                _ => {
                    for e in &batch.events {
                        self.event(i, batch.gseq, e);
                    }
                }
            }
        }
    }

    fn event(&mut self, i: usize, gseq: u64, e: &Event) {
        let sub = &self.subs[i];
        match (sub.channel, e) {
            (
                Channel::OrderbookDelta,
                Event::BookDelta {
                    ticker,
                    side,
                    price,
                    delta,
                    user,
                    client_order_id,
                    ts_ms,
                },
            ) => {
                // Only markets with a snapshot, and only changes after it.
                let Some(&since) = sub.since.get(ticker) else {
                    return;
                };
                if gseq <= since || !sub.covers(ticker) {
                    return;
                }
                let own = (*user == self.user)
                    .then_some(client_order_id.as_deref())
                    .flatten();
                let msg = render::delta_msg(
                    ticker,
                    *side,
                    *price,
                    *delta,
                    own,
                    *ts_ms,
                    sub.use_yes_price,
                    self.wire,
                );
                self.push_md(i, "orderbook_delta", msg, true);
            }
            (Channel::Trade, Event::Trade(t)) if sub.covers(&t.ticker) => {
                let msg = render::trade_msg(t, self.wire);
                self.push_md(i, "trade", msg, true);
            }
            (Channel::Fill, Event::Fill(f)) if f.user == self.user && sub.covers(&f.ticker) => {
                let msg = render::fill_msg(f, self.wire);
                self.push_md(i, "fill", msg, false);
            }
            (Channel::UserOrders, Event::Order(o))
                if o.user == self.user && sub.covers(&o.ticker) =>
            {
                let msg = render::user_order_msg(o);
                self.push_md(i, "user_order", msg, false);
            }
            _ => {}
        }
    }
}
