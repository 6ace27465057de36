//! After warm-up, the live order path allocates nothing on the gateway's
//! thread: quotes placed, acked, cancelled and confirmed through the Kalshi
//! venue edge against `pt sim` over TLS (request encoding, presigned
//! headers, the REST connection, response and channel decoding, the OMS).
//! The simulator and the presigning thread run on threads of their own,
//! so only this thread's allocations are counted.
//!
//! Runs without the libtest harness so no other test shares the thread.

use pt_engine::model::{Event, EventKind, Mode, Side, order_flags};
use pt_gateway::kalshi::{ForeignOrders, KalshiConfig, KalshiVenue};
use pt_gateway::{PaperConfig, RiskPolicy};
use pt_net::presign::PresignConfig;
use pt_net::{HttpTarget, WsConfig, tls};
use pt_sim::auth::{KeyStore, signer_for};
use pt_sim::server::{SimConfig, start_with_keys};
use pt_tests::alloc::allocations;
use pt_tests::gateway::Harness;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;

const WARM: u64 = 200;
const MEASURED: u64 = 1_000;

/// Polls until `kind` has been reported `n` times in all; counts without
/// allocating.
fn until(h: &mut Harness<KalshiVenue>, seen: &mut [u64; 2], want: [u64; 2]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let tally = |events: &[Event], seen: &mut [u64; 2]| {
        for e in events {
            if let Event::Exec(r) = e {
                match r.header.kind {
                    EventKind::Ack => seen[0] += 1,
                    EventKind::Cancelled => seen[1] += 1,
                    _ => {}
                }
            }
        }
    };
    tally(h.out.as_slice(), seen);
    while seen[0] < want[0] || seen[1] < want[1] {
        let out = h.advance(10_000);
        tally(out, seen);
        assert!(
            Instant::now() < deadline,
            "timed out at {seen:?} of {want:?}"
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let mut store = KeyStore::empty();
    store.insert("engine", key.to_public_key());
    let config = SimConfig {
        markets: 4,
        rate: 0,
        ..SimConfig::default()
    };
    let running = rt.block_on(start_with_keys(config, store)).unwrap();
    let tickers = pt_sim::server::market_specs(4, 0)
        .into_iter()
        .map(|m| m.ticker)
        .collect();
    let ca = running.ca_pem.as_deref().unwrap();
    let cfg = tls::client_config_from_ca_pem(ca, std::path::Path::new("(sim CA)")).unwrap();
    let port = running.addr.port();
    let mut ws = WsConfig::new("127.0.0.1", port, pt_net::auth::WS_PATH);
    ws.tls = Some(cfg.clone());
    let venue = KalshiVenue::connect(
        KalshiConfig {
            rest: HttpTarget::resolve("127.0.0.1", port, Some(&cfg)).unwrap(),
            ws,
            tickers,
            presign: PresignConfig::default(),
            max_in_flight: 16,
            foreign: ForeignOrders::Cancel,
            order_groups: None,
        },
        Arc::new(signer_for("engine", &key)),
    )
    .unwrap();
    // A venue tier's order budget, not the default ten a second.
    let policy = RiskPolicy::from_toml(
        "[rate]\ncapacity = 100000\nrefill_per_second = 100000\n",
        "test policy",
    )
    .unwrap();
    let mut h = Harness::with_live(
        Some(policy),
        Mode::Live,
        true,
        PaperConfig::default(),
        venue,
    );
    for m in 0..4 {
        h.quote(m, "0.40", "0.60", 50);
    }
    h.reserve_journal(((WARM + MEASURED) * 8) as usize);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !h.gw.live().reconciled() {
        h.advance(10_000);
        assert!(Instant::now() < deadline, "the venue edge never reconciled");
    }
    let mut seen = [0u64; 2];
    let mut counter = 1;
    let mut round = |h: &mut Harness<KalshiVenue>, seen: &mut [u64; 2], i: u64| {
        let mut o = h.new_order(1, counter, (i % 4) as u32, Side::Buy, "0.45", 1);
        o.order_flags = order_flags::POST_ONLY;
        counter += 1;
        h.send(o);
        until(h, seen, [i + 1, i]);
        let c = h.cancel(1, counter, o.client_order_id);
        counter += 1;
        h.send(c);
        until(h, seen, [i + 1, i + 1]);
    };
    for i in 0..WARM {
        round(&mut h, &mut seen, i);
    }
    let before = allocations();
    for i in WARM..WARM + MEASURED {
        round(&mut h, &mut seen, i);
    }
    let during = allocations() - before;
    let c = h.gw.live().counters();
    println!(
        "live order path: {MEASURED} orders placed, acked, cancelled and confirmed; {during} allocations; {} inline signatures",
        c.inline_signs
    );
    assert_eq!(seen, [WARM + MEASURED, WARM + MEASURED]);
    assert_eq!(c.inline_signs, 0);
    assert_eq!(during, 0, "the live order path allocated after warm-up");

    // Past the housekeeper's 1,024 order paths (1,200 orders came and
    // went): a new order's amend is still signed ahead, since a closed
    // order's path is let go.
    let mut o = h.new_order(1, 1_000_000, 0, Side::Buy, "0.45", 1);
    o.order_flags = order_flags::POST_ONLY;
    h.send(o);
    until(&mut h, &mut seen, [WARM + MEASURED + 1, WARM + MEASURED]);
    let signed_ahead = Instant::now() + Duration::from_millis(500);
    while Instant::now() < signed_ahead {
        h.advance(10_000);
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut amend = h.new_order(1, 1_000_001, 0, Side::Buy, "0.44", 1);
    amend.header.kind = EventKind::OrderReplace;
    amend.target = o.client_order_id;
    h.send(amend);
    let c = h.gw.live().counters();
    assert!(c.writes > 2 * (WARM + MEASURED), "{c:?}");
    assert_eq!(
        c.inline_signs, 0,
        "the amend was signed on the order thread"
    );
    println!("an amend after {} orders: signed ahead", WARM + MEASURED);
}
