//! The simulator's shared state: its configuration, the exchange behind a
//! mutex, the published change stream, keys, faults and rate limits.
//!
//! One exchange behind a mutex (this is the slow path: a venue stand-in,
//! not the engine). Every change it makes is published, in order and under
//! the same lock, on a broadcast channel as a [`Published`] batch with a
//! global sequence number; WebSocket sessions filter the batches into their
//! subscriptions. A snapshot taken under the lock records the sequence it
//! reflects, so a session drops the batches its snapshot already contains.

use crate::auth::KeyStore;
use crate::exchange::{Event, Exchange, FeeModel, MarketSpec, MarketStats, Money};
use crate::faults::{Faults, RateLimiter, Tier};
use crate::render::Wire;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{broadcast, watch};

/// Everything `pt sim run` is configured with.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on (loopback by default).
    pub listen: SocketAddr,
    /// Serve plain HTTP/WS instead of TLS (for debugging with curl).
    pub plain: bool,
    /// Where to write the CA certificate clients should trust.
    pub ca_out: Option<PathBuf>,
    /// Directory of `<key-id>.pub.pem` API keys.
    pub keys_dir: Option<PathBuf>,
    /// Accepted clock skew of a signed request, in ms.
    pub auth_window_ms: i64,
    /// Starting balance of every API key's account, in dollars at 1e-8.
    pub starting_balance: Money,
    /// Markets to list.
    pub markets: usize,
    /// Background market-data rate, messages per second (0 = none).
    pub rate: u64,
    /// Seed of the market model and of generated ids.
    pub seed: u64,
    /// Faults in force at start.
    pub faults: Faults,
    /// Also send Kalshi's legacy integer fields.
    pub wire: Wire,
    /// Record market-data send times and order arrival times.
    pub probe: bool,
    /// Milliseconds between the heartbeat pings of each WebSocket (Kalshi: 10 s).
    pub ping_ms: u64,
    /// How far the account reads (balance, orders, fills, positions) may
    /// lag the exchange, in ms: they are served from a copy refreshed once
    /// it is this old, and `GET /exchange/user_data_timestamp` says when it
    /// was taken (0: reads are live).
    pub user_data_lag_ms: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            plain: false,
            ca_out: None,
            keys_dir: None,
            auth_window_ms: 30_000,
            starting_balance: 10_000 * 100_000_000,
            markets: 4,
            rate: 1_000,
            seed: 1,
            faults: Faults::default(),
            wire: Wire::default(),
            probe: false,
            ping_ms: 10_000,
            user_data_lag_ms: 0,
        }
    }
}

/// One batch of exchange events, published under the exchange lock.
#[derive(Debug)]
pub struct Published {
    /// Global sequence of the batch (1, 2, ...).
    pub gseq: u64,
    /// When the exchange made them.
    pub ts_ms: i64,
    /// The events, in the order the exchange made them.
    pub events: Vec<Event>,
    /// Markets whose figures changed, with the new figures (for `ticker`).
    pub tickers: Vec<(String, MarketStats)>,
}

/// Send and arrival times the latency probe records.
#[derive(Debug, Default)]
pub struct Probe {
    /// (connection, sid, seq) of each market-data frame → wall-clock ns when
    /// it was handed to the socket.
    pub frames: Mutex<HashMap<(u64, u64, u64), i64>>,
    /// client_order_id → wall-clock ns when the order request arrived.
    pub orders: Mutex<HashMap<String, i64>>,
}

/// State shared by every connection.
#[derive(Debug)]
pub struct Shared {
    exchange: Mutex<Exchange>,
    gseq: AtomicU64,
    /// Published batches.
    pub feed: broadcast::Sender<Arc<Published>>,
    /// API keys.
    pub keys: KeyStore,
    /// Faults in force.
    pub faults: Mutex<Faults>,
    /// Token buckets.
    pub limiter: Mutex<RateLimiter>,
    /// Bumped by the `drop_connections` fault: every WebSocket closes.
    pub drop_generation: watch::Sender<u64>,
    /// Latency probe records (when enabled).
    pub probe: Option<Probe>,
    /// Configuration.
    pub config: SimConfig,
    /// Connection ids.
    pub next_conn: AtomicU64,
    /// The account reads' copy of the exchange and when it was taken (ms),
    /// with `user_data_lag_ms` set.
    account_view: Mutex<Option<(i64, Box<Exchange>)>>,
}

/// Locks a mutex, recovering from a poisoned lock (a panicked handler must
/// not take the venue down).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Wall clock, ms since the epoch.
pub fn now_ms() -> i64 {
    pt_engine::model::Nanos::now().0 / 1_000_000
}

impl Shared {
    /// Runs `f` on the exchange and publishes the events it made.
    pub fn with_exchange<R>(&self, f: impl FnOnce(&mut Exchange, i64, &mut Vec<Event>) -> R) -> R {
        let mut ex = lock(&self.exchange);
        let now = now_ms();
        let mut events = Vec::new();
        let r = f(&mut ex, now, &mut events);
        if !events.is_empty() {
            let mut touched: Vec<String> = Vec::new();
            for e in &events {
                let t = match e {
                    Event::Trade(t) => &t.ticker,
                    Event::BookDelta { ticker, .. } => ticker,
                    Event::Settled { ticker, .. } => ticker,
                    _ => continue,
                };
                if !touched.iter().any(|x| x == t) {
                    touched.push(t.clone());
                }
            }
            let tickers = touched
                .into_iter()
                .filter_map(|t| ex.market(&t).map(|(_, s)| (t, s)))
                .collect();
            let gseq = self.gseq.fetch_add(1, Ordering::Relaxed) + 1;
            // No receivers is fine: nobody is subscribed.
            let _ = self.feed.send(Arc::new(Published {
                gseq,
                ts_ms: now,
                events,
                tickers,
            }));
        }
        r
    }

    /// Reads the exchange; also returns the global sequence the read reflects.
    pub fn read<R>(&self, f: impl FnOnce(&Exchange) -> R) -> (u64, R) {
        let ex = lock(&self.exchange);
        let gseq = self.gseq.load(Ordering::Relaxed);
        (gseq, f(&ex))
    }

    /// Runs `f` on the exchange as the account reads see it, and says as of
    /// when (ms): the live exchange, or with `user_data_lag_ms` a copy at
    /// most that old.
    pub fn read_account<R>(&self, f: impl FnOnce(&Exchange) -> R) -> (i64, R) {
        let lag = i64::try_from(self.config.user_data_lag_ms).unwrap_or(i64::MAX);
        if lag == 0 {
            return (now_ms(), self.read(f).1);
        }
        let now = now_ms();
        let mut view = lock(&self.account_view);
        let stale = view.as_ref().is_none_or(|(at, _)| now - at >= lag);
        if stale {
            let copy = Box::new(lock(&self.exchange).clone());
            *view = Some((now, copy));
        }
        match view.as_ref() {
            Some((at, ex)) => (*at, f(ex)),
            None => (now, self.read(f).1),
        }
    }

    /// Applies new fault settings.
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.limiter).set_tier(Tier::parse(&faults.rate_limit_tier));
        *lock(&self.faults) = faults;
    }

    /// The current fault settings.
    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }
}

/// Builds the exchange with `config.markets` markets and opens an account
/// for every API key.
pub fn build_shared(config: SimConfig, keys: KeyStore) -> Arc<Shared> {
    let mut exchange = Exchange::new(FeeModel::default(), config.seed);
    for spec in market_specs(config.markets, now_ms()) {
        // Generated tickers are distinct.
        let _ = exchange.add_market(spec);
    }
    for (_, user) in keys.users() {
        exchange.open_account(user, config.starting_balance);
    }
    let (feed, _) = broadcast::channel(65_536);
    let (drop_generation, _) = watch::channel(0);
    let limiter = {
        let mut l = RateLimiter::default();
        l.set_tier(Tier::parse(&config.faults.rate_limit_tier));
        l
    };
    Arc::new(Shared {
        exchange: Mutex::new(exchange),
        gseq: AtomicU64::new(0),
        feed,
        keys,
        faults: Mutex::new(config.faults.clone()),
        limiter: Mutex::new(limiter),
        drop_generation,
        probe: config.probe.then(Probe::default),
        config,
        next_conn: AtomicU64::new(1),
        account_view: Mutex::new(None),
    })
}

/// The simulated markets: `PTSIM-<n>` tickers on a one-cent grid, closing
/// a year after start.
pub fn market_specs(n: usize, now_ms: i64) -> Vec<MarketSpec> {
    use pt_engine::instrument::PriceGrid;
    use pt_engine::model::Price;
    let cent = Price::from_raw(1_000_000);
    (0..n)
        .filter_map(|i| {
            let grid = PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).ok()?;
            Some(MarketSpec {
                ticker: format!("PTSIM-26DEC31-M{i:03}"),
                event_ticker: "PTSIM-26DEC31".to_owned(),
                title: format!("Simulated market {i}"),
                grid,
                close_time_ms: now_ms + 365 * 86_400_000,
            })
        })
        .collect()
}
