//! The engine's Kalshi feed against `pt sim` over TLS on loopback: the
//! feed thread (mio, rustls, our WebSocket client, the decoders, the
//! session) drives the engine's book stage while the simulator's market
//! moves, through the market-data loop the engine runs (the feed edge and
//! the book stage in a graph). Sequence gaps, duplicates, reordering,
//! deltas the book must refuse (`corrupt_delta`: the book's update carries
//! `RESYNC` back to the feed edge, which asks for its snapshot) and
//! dropped connections are
//! injected; after each recovery the engine's books must equal the
//! simulator's, level for level.

mod support;

use pt_engine::book::BookStage;
use pt_engine::graph::{FusedGraph, GraphSpec};
use pt_engine::instrument::PriceGrid;
use pt_engine::model::{InstrumentId, Mono, Nanos, Price, Qty, Side, VenueId};
use pt_feed::kalshi::feed::{FeedConfig, FeedCounters, KalshiFeed};
use pt_feed::kalshi::session::{Market, SessionConfig, SessionCounters};
use pt_feed::market_data::{BOOK, FEED, FeedEdge, add_market_data};
use pt_sim::auth::KeyStore;
use pt_sim::server::{SimConfig, start_with_keys};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::client::{Client, test_signer};

const MARKETS: usize = 3;

fn ticker(i: usize) -> String {
    format!("PTSIM-26DEC31-M{i:03}")
}

type Levels = Vec<(Price, Qty)>;

/// What the feed thread reports when asked.
#[derive(Debug, Clone)]
struct Report {
    books: Vec<(Levels, Levels)>,
    session: SessionCounters,
    feed: FeedCounters,
    whole: bool,
    open: bool,
    stale_books: usize,
    /// Snapshot requests from the books, and those the feed sent.
    resyncs: (u64, u64),
}

enum Ask {
    Report(mpsc::Sender<Report>),
    Stop,
}

/// Runs the feed and the book stage on a thread of their own, as the
/// engine does; answers reports between polls.
fn spawn_feed(config: FeedConfig) -> (mpsc::Sender<Ask>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Ask>();
    let handle = std::thread::spawn(move || {
        let cent = Price::from_raw(1_000_000);
        let grid = PriceGrid::uniform(cent, Price::from_raw(99_000_000), cent).unwrap();
        let books =
            BookStage::new((0..MARKETS).map(|i| (InstrumentId(i as u32 + 1), grid.clone())))
                .unwrap();
        let feed = KalshiFeed::new(config).expect("feed config");
        let edge = FeedEdge::new(feed, Duration::from_millis(5));
        let mut spec = GraphSpec::new();
        add_market_data(&mut spec, Box::new(edge), books, None);
        let mut graph = FusedGraph::new(spec).unwrap();
        loop {
            graph.poll(Nanos::now(), Mono::now(), &mut |_, _| {});
            let stage = graph.node::<BookStage>(BOOK).unwrap();
            let edge = graph.node::<FeedEdge<KalshiFeed>>(FEED).unwrap();
            let feed = edge.feed();
            match rx.try_recv() {
                Ok(Ask::Report(reply)) => {
                    let mut books = Vec::new();
                    let mut stale_books = 0;
                    for i in 0..MARKETS {
                        let id = InstrumentId(i as u32 + 1);
                        let (mut bids, mut asks) = (Vec::new(), Vec::new());
                        stage.top_n(id, Side::Buy, 1000, &mut bids);
                        stage.top_n(id, Side::Sell, 1000, &mut asks);
                        books.push((bids, asks));
                        stale_books += usize::from(stage.book(id).unwrap().is_stale());
                    }
                    let _ = reply.send(Report {
                        books,
                        session: feed.session_counters(),
                        feed: feed.counters(),
                        whole: feed.session().all_whole(),
                        open: feed.is_open(),
                        stale_books,
                        resyncs: edge.resyncs(),
                    });
                }
                Ok(Ask::Stop) | Err(mpsc::TryRecvError::Disconnected) => return,
                Err(mpsc::TryRecvError::Empty) => {}
            }
        }
    });
    (tx, handle)
}

fn report(tx: &mpsc::Sender<Ask>) -> Report {
    let (reply, rx) = mpsc::channel();
    tx.send(Ask::Report(reply)).expect("feed thread alive");
    rx.recv_timeout(Duration::from_secs(10))
        .expect("feed thread answers")
}

/// Polls until `ok` holds for a report, or fails naming `what`.
async fn wait_for(tx: &mpsc::Sender<Ask>, what: &str, ok: impl Fn(&Report) -> bool) -> Report {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = report(tx);
        if ok(&r) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {r:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The simulator's book of `ticker` on the YES ladder, best first: YES bids,
/// and NO bids as YES asks at 1 − p.
async fn sim_book(anon: &Client, ticker: &str) -> (Levels, Levels) {
    let (status, body) = anon
        .request("GET", &format!("/markets/{ticker}/orderbook"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let side = |key: &str| -> Vec<(Price, Qty)> {
        body["orderbook_fp"][key]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|l| {
                let p = Price::parse(l[0].as_str().expect("price")).expect("price");
                let q = Qty::parse(l[1].as_str().expect("count")).expect("count");
                (p, q)
            })
            .collect()
    };
    let mut bids = side("yes_dollars");
    bids.sort_by_key(|l| std::cmp::Reverse(l.0));
    let mut asks: Levels = side("no_dollars")
        .into_iter()
        .map(|(p, q)| (Price::from_raw(Price::ONE.raw() - p.raw()), q))
        .collect();
    asks.sort_by_key(|l| l.0);
    (bids, asks)
}

async fn admin(anon: &Client, path: &str, body: Value) {
    let (status, reply) = anon.raw_request("POST", path, Some(&body), None).await;
    assert_eq!(status, 200, "{path}: {reply}");
}

/// Pauses the market, lets the feed drain, and compares every book with the
/// simulator's; resumes the market.
async fn books_match(anon: &Client, tx: &mpsc::Sender<Ask>, when: &str) -> Report {
    admin(anon, "/sim/admin/pause", json!({"paused": true})).await;
    // Drained: whole, and no frame arrived for 300 ms.
    let mut last = report(tx);
    let r = loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = report(tx);
        if r.whole && r.open && r.session.frames == last.session.frames {
            break r;
        }
        last = r;
    };
    for i in 0..MARKETS {
        let want = sim_book(anon, &ticker(i)).await;
        assert_eq!(r.books[i], want, "{when}: market {} differs", ticker(i));
    }
    assert_eq!(r.stale_books, 0, "{when}: a book is still stale");
    assert!(
        r.books.iter().all(|(b, a)| !b.is_empty() && !a.is_empty()),
        "{when}: the market should have quotes on both sides"
    );
    println!(
        "{when}: books equal; {} levels; session {:?}; feed {:?}",
        r.books
            .iter()
            .map(|(b, a)| b.len() + a.len())
            .sum::<usize>(),
        r.session,
        r.feed
    );
    admin(anon, "/sim/admin/pause", json!({"paused": false})).await;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_books_equal_the_venue_books_after_every_recovery() {
    let (signer, public) = test_signer("feed");
    let mut keys = KeyStore::empty();
    keys.insert("feed", public);
    let config = SimConfig {
        rate: 3_000,
        markets: MARKETS,
        ..SimConfig::default()
    };
    let sim = start_with_keys(config, keys).await.expect("start the sim");
    let anon = Client::new(&sim, None);
    let dir = std::env::temp_dir().join(format!("pt-kalshi-feed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sim.ca_pem.as_deref().expect("TLS sim")).unwrap();

    let session = SessionConfig {
        markets: (0..MARKETS)
            .map(|i| Market {
                ticker: ticker(i),
                instrument: InstrumentId(i as u32 + 1),
            })
            .collect(),
        venue: VenueId(1),
        trades: true,
        ticker: true,
    };
    let mut fc = FeedConfig::new("127.0.0.1", sim.addr.port(), session);
    fc.tls = Some(pt_net::tls::client_config_from_ca_file(&ca).expect("CA"));
    fc.signer = Some(Arc::new(signer));
    fc.backoff_base = Duration::from_millis(20);
    fc.backoff_cap = Duration::from_millis(200);
    let (tx, feed_thread) = spawn_feed(fc);

    // Quiet start: snapshots, then the market moves.
    wait_for(&tx, "the first snapshots and deltas", |r| {
        r.whole && r.session.deltas > 200 && r.session.trades > 0
    })
    .await;
    let base = books_match(&anon, &tx, "after the first snapshots").await;
    assert_eq!(base.session.gaps, 0);
    assert_eq!(base.session.decode_errors, 0);

    // Each fault for a while, then healthy again: the feed must notice, and
    // recover to the venue's books.
    let mut previous = base;
    let faults = [
        ("skip_seq", 0.01),
        ("duplicate", 0.02),
        ("reorder", 0.02),
        ("corrupt_delta", 0.005),
    ];
    for (fault, value) in faults {
        admin(&anon, "/sim/admin/faults", json!({ fault: value })).await;
        let seen = previous.session;
        let asked = previous.resyncs;
        wait_for(&tx, fault, |r| match fault {
            "skip_seq" => r.session.gaps >= seen.gaps + 3,
            "duplicate" => r.session.duplicates >= seen.duplicates + 3,
            // The books' RESYNC updates reached the feed edge, which sent
            // the snapshot requests.
            "corrupt_delta" => {
                r.session.resyncs >= seen.resyncs + 3
                    && r.resyncs.0 >= asked.0 + 3
                    && r.resyncs.1 >= asked.1 + 3
            }
            _ => r.session.gaps >= seen.gaps + 2 && r.session.duplicates > seen.duplicates,
        })
        .await;
        admin(&anon, "/sim/admin/faults", json!({ fault: 0.0 })).await;
        let r = books_match(&anon, &tx, fault).await;
        if fault != "duplicate" {
            assert!(
                r.session.snapshot_requests > seen.snapshot_requests,
                "{fault}: a gap must ask for snapshots"
            );
            assert!(
                r.session.snapshots > seen.snapshots,
                "{fault}: snapshots came back"
            );
        }
        assert_eq!(r.session.decode_errors, 0);
        previous = r;
    }

    // Dropped connections: the feed reconnects, signs again, resubscribes.
    for round in 0..2 {
        let opened = previous.feed.opened;
        admin(&anon, "/sim/admin/drop_connections", json!({})).await;
        wait_for(&tx, "a new connection", |r| {
            r.feed.opened > opened && r.whole && r.session.deltas > previous.session.deltas
        })
        .await;
        previous = books_match(&anon, &tx, &format!("after dropped connection {round}")).await;
    }
    assert!(previous.session.disconnects >= 2);

    tx.send(Ask::Stop).unwrap();
    feed_thread.join().unwrap();
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
