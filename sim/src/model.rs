//! The background market: seeded makers and takers.
//!
//! Each market has a latent probability that random-walks (in log-odds).
//! Makers quote around it: a bid or an ask a few ticks from it, of random
//! size; old quotes are cancelled once a market holds enough of them.
//! Takers cross the spread with immediate-or-cancel orders. Actions arrive
//! as a Poisson process whose rate is set so the venue publishes about
//! `rate` market-data messages a second (book changes and trades). The
//! same seed gives the same sequence of orders, so the same stream, as long
//! as no client trades.

use crate::exchange::{
    BookSide, Event, Exchange, HOUSE, NewOrder, SelfTradePrevention, TimeInForce, UserId,
};
use crate::state::Shared;
use pt_engine::model::{Price, Qty};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The account background takers trade from (makers use [`HOUSE`]).
pub const TAKER: UserId = u32::MAX;

/// Quotes a market keeps before its oldest is cancelled.
const MAX_QUOTES: usize = 40;

/// Most actions applied under one lock (bounds the latency a client sees).
const MAX_ACTIONS_PER_BATCH: usize = 2048;

/// A small, fast, seedable generator (SplitMix64): the stream must not
/// change with a dependency's version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Exponential with mean `mean`.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Roughly normal with mean 0 and standard deviation 1 (Irwin–Hall).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }
}

#[derive(Debug)]
struct MarketState {
    ticker: String,
    log_odds: f64,
    quotes: VecDeque<String>,
}

/// The model's state: its generator and each market's latent probability.
#[derive(Debug)]
pub struct Model {
    rng: Rng,
    markets: Vec<MarketState>,
}

impl Model {
    /// A model over the exchange's markets.
    pub fn new(seed: u64, tickers: Vec<String>) -> Model {
        let mut rng = Rng::new(seed);
        let markets = tickers
            .into_iter()
            .map(|ticker| MarketState {
                ticker,
                log_odds: rng.normal() * 0.8,
                quotes: VecDeque::new(),
            })
            .collect();
        Model { rng, markets }
    }

    /// One action on a random market; returns the market-data messages it
    /// made (book changes and trades).
    pub fn step(&mut self, ex: &mut Exchange, now_ms: i64, events: &mut Vec<Event>) -> usize {
        if self.markets.is_empty() {
            return 0;
        }
        let before = events.len();
        let m = self.rng.range(0, self.markets.len() as u64 - 1) as usize;
        let drift = self.rng.normal() * 0.02;
        let market = &mut self.markets[m];
        market.log_odds = (market.log_odds + drift).clamp(-4.0, 4.0);
        let fair = 1.0 / (1.0 + (-market.log_odds).exp());
        let fair_cents = (fair * 100.0).round().clamp(2.0, 98.0) as i64;
        let taker = self.rng.unit() < 0.25;
        let side = if self.rng.unit() < 0.5 {
            BookSide::Bid
        } else {
            BookSide::Ask
        };
        let (user, cents, count, tif) = if taker {
            // Cross a few ticks through fair value; takes what is there.
            let through = self.rng.range(1, 4) as i64;
            let cents = match side {
                BookSide::Bid => fair_cents + through,
                BookSide::Ask => fair_cents - through,
            };
            (
                TAKER,
                cents,
                self.rng.range(1, 20),
                TimeInForce::ImmediateOrCancel,
            )
        } else {
            let away = self.rng.range(1, 5) as i64;
            let cents = match side {
                BookSide::Bid => fair_cents - away,
                BookSide::Ask => fair_cents + away,
            };
            (
                HOUSE,
                cents,
                self.rng.range(1, 100),
                TimeInForce::GoodTillCanceled,
            )
        };
        let order = NewOrder {
            user,
            ticker: market.ticker.clone(),
            client_order_id: None,
            side,
            count: Qty::from_raw(count as i64 * 100_000_000),
            price: Price::from_raw(cents.clamp(1, 99) * 1_000_000),
            time_in_force: tif,
            self_trade_prevention: SelfTradePrevention::Maker,
            post_only: false,
            reduce_only: false,
            expiration_ts: None,
            cancel_order_on_pause: false,
        };
        if let Ok(placed) = ex.place(order, now_ms, events)
            && !taker
            && placed.remaining_count.raw() > 0
        {
            market.quotes.push_back(placed.order_id);
        }
        while market.quotes.len() > MAX_QUOTES {
            if let Some(old) = market.quotes.pop_front() {
                // Already filled or cancelled: nothing to do.
                let _ = ex.cancel(HOUSE, &old, now_ms, events);
            }
        }
        events[before..]
            .iter()
            .filter(|e| matches!(e, Event::BookDelta { .. } | Event::Trade(_)))
            .count()
    }
}

/// Runs the model (and order expiry) until `stop` changes.
pub async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let rate = shared.config.rate as f64;
    let tickers: Vec<String> = shared
        .read(|ex| ex.markets().map(|(s, _)| s.ticker.clone()).collect())
        .1;
    shared.with_exchange(|ex, _, _| {
        ex.open_account(TAKER, i64::MAX / 4);
        ex.set_ephemeral(HOUSE);
        ex.set_ephemeral(TAKER);
    });
    let mut model = Model::new(shared.config.seed, tickers);
    let mut rng = Rng::new(shared.config.seed.wrapping_add(1));
    let start = Instant::now();
    // Seconds since start at which the next action is due.
    let mut due = 0.0f64;
    loop {
        let elapsed = start.elapsed().as_secs_f64();
        shared.with_exchange(|ex, now_ms, events| {
            ex.expire(now_ms, events);
            if rate <= 0.0 {
                return;
            }
            let mut n = 0;
            while due <= elapsed && n < MAX_ACTIONS_PER_BATCH {
                let messages = model.step(ex, now_ms, events).max(1);
                for _ in 0..messages {
                    due += rng.exp(1.0 / rate);
                }
                n += 1;
            }
            // Behind by more than a second (a slow host): do not try to
            // catch up in a burst.
            if elapsed - due > 1.0 {
                due = elapsed;
            }
        });
        let wait = if rate > 0.0 {
            Duration::from_secs_f64((due - start.elapsed().as_secs_f64()).clamp(0.0, 0.1))
        } else {
            Duration::from_millis(100)
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::FeeModel;
    use crate::state::market_specs;

    fn stream(seed: u64, steps: usize) -> (Vec<Event>, usize) {
        let mut ex = Exchange::new(FeeModel::default(), seed);
        let specs = market_specs(3, 0);
        let tickers = specs.iter().map(|s| s.ticker.clone()).collect();
        for spec in specs {
            ex.add_market(spec).expect("distinct tickers");
        }
        ex.open_account(TAKER, i64::MAX / 4);
        ex.set_ephemeral(HOUSE);
        ex.set_ephemeral(TAKER);
        let mut model = Model::new(seed, tickers);
        let mut events = Vec::new();
        let mut messages = 0;
        for i in 0..steps {
            messages += model.step(&mut ex, 1_000 + i as i64, &mut events);
        }
        (events, messages)
    }

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let (a, na) = stream(7, 5_000);
        let (b, nb) = stream(7, 5_000);
        assert_eq!(na, nb);
        assert_eq!(a, b);
        let (c, _) = stream(8, 5_000);
        assert_ne!(a, c, "another seed, another stream");
        // Makers and takers both act: the stream has trades and book changes.
        assert!(a.iter().any(|e| matches!(e, Event::Trade(_))));
        assert!(na > 5_000, "each action publishes at least one message");
    }

    #[test]
    fn exponential_gaps_have_the_requested_mean() {
        let mut rng = Rng::new(3);
        let n = 200_000;
        let mean = (0..n).map(|_| rng.exp(2.0)).sum::<f64>() / n as f64;
        assert!((mean - 2.0).abs() < 0.05, "mean {mean}");
    }
}
