//! Random intents, book changes, venue answers and commands against the
//! gateway: nothing passes the gate unseen, paper and shadow write nothing
//! outside, cash and contracts are conserved, the journal rebuilds the
//! state after any prefix, and no client id makes two venue orders.

use proptest::prelude::*;
use pt_engine::model::{CommandAction, Event, EventKind, Mode, Scope, Side};
use pt_gateway::{PaperConfig, RiskPolicy};
use pt_tests::gateway::{Harness, id};

/// A small deterministic generator, so one seed is one sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn price(rng: &mut Rng) -> String {
    format!("0.{:02}", 30 + rng.below(30))
}

/// One random step.
fn step(
    h: &mut Harness,
    rng: &mut Rng,
    counters: &mut [u64; 4],
    sent: &mut Vec<pt_engine::model::OrderIntent>,
) {
    let instrument = rng.below(4) as u32;
    let side = if rng.below(2) == 0 {
        Side::Buy
    } else {
        Side::Sell
    };
    match rng.below(12) {
        0..=3 => {
            let s = 1 + rng.below(3) as u16;
            counters[s as usize] += 1;
            let px = price(rng);
            let i = h.new_order(
                s,
                counters[s as usize],
                instrument,
                side,
                &px,
                1 + rng.below(20) as i64,
            );
            sent.push(i);
            h.send(i);
        }
        4 => {
            // A resend of an earlier intent: never a second order.
            if !sent.is_empty() {
                let i = sent[rng.below(sent.len() as u64) as usize];
                h.send(i);
            }
        }
        5 => {
            let open: Vec<_> = h.gw.oms().iter().map(|o| o.id).collect();
            if !open.is_empty() {
                let target = open[rng.below(open.len() as u64) as usize];
                let s = target.strategy().0;
                counters[s as usize] += 1;
                let i = h.cancel(s, counters[s as usize], target);
                h.send(i);
            }
        }
        6..=8 => {
            let px = price(rng);
            h.level(instrument, side, &px, rng.below(30) as i64);
        }
        9 => {
            let px = price(rng);
            h.trade(instrument, side, &px, 1 + rng.below(10) as i64);
        }
        10 => {
            let action = [
                CommandAction::TripKillSwitch,
                CommandAction::ResetKillSwitch,
                CommandAction::SetReducing,
                CommandAction::CancelAll,
            ][rng.below(4) as usize];
            let scope = if rng.below(3) == 0 {
                Scope::Global
            } else {
                Scope::Strategy
            };
            h.command(action, scope, 1 + rng.below(3) as u16, 0);
        }
        _ => {
            h.advance(rng.below(3) as i64 * 2_000_000_000);
        }
    }
}

fn harness(mode: Mode, rng: &mut Rng) -> Harness {
    let config = PaperConfig {
        arrival_ns: rng.below(3) as i64 * 1_000,
        ..PaperConfig::default()
    };
    let mut h = Harness::new(
        Some(RiskPolicy::default()),
        mode,
        mode == Mode::Live,
        config,
    );
    for i in 0..4 {
        h.quote(i, "0.40", "0.45", 20);
    }
    h
}

fn check(h: &Harness, mode: Mode) -> Result<(), TestCaseError> {
    for m in [Mode::Paper, Mode::Shadow, Mode::Live] {
        if let Err(e) = h.gw.ledger(m).balanced() {
            return Err(TestCaseError::fail(format!("{m:?} ledger: {e}")));
        }
    }
    let live = h.gw.live();
    prop_assert_eq!(live.duplicates, 0, "a client id made two venue orders");
    // Every write the venue saw is an approved live intent in the journal.
    let approved_live =
        h.gw.journal()
            .iter()
            .filter(|(e, _)| matches!(e, Event::Intent(i) if i.effective_mode == Mode::Live))
            .count() as u64;
    prop_assert_eq!(live.writes, approved_live);
    if mode != Mode::Live {
        prop_assert_eq!(live.writes, 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_journal_rebuilds_the_state_after_every_prefix(seed in 1u64.., mode in 0u8..3, steps in 1usize..60) {
        let mode = [Mode::Paper, Mode::Shadow, Mode::Live][mode as usize];
        let mut rng = Rng(seed);
        let mut h = harness(mode, &mut rng);
        let (mut counters, mut sent) = ([0u64; 4], Vec::new());
        for _ in 0..steps {
            step(&mut h, &mut rng, &mut counters, &mut sent);
            check(&h, mode)?;
            let rebuilt = h.rebuilt(Some(RiskPolicy::default()), mode, mode == Mode::Live);
            prop_assert_eq!(rebuilt.oms().snapshot(), h.gw.oms().snapshot());
            for m in [Mode::Paper, Mode::Shadow, Mode::Live] {
                prop_assert_eq!(rebuilt.ledger(m).at_cost(), h.gw.ledger(m).at_cost());
            }
            prop_assert_eq!(rebuilt.kill_switches(), h.gw.kill_switches());
        }
    }
}

#[test]
fn paper_and_shadow_write_nothing_outside_over_100_000_sequences() {
    let mut rejected = 0u64;
    let mut approved = 0u64;
    for seed in 1..=100_000u64 {
        let mode = if seed % 2 == 0 {
            Mode::Paper
        } else {
            Mode::Shadow
        };
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut h = harness(mode, &mut rng);
        let (mut counters, mut sent) = ([0u64; 4], Vec::new());
        for _ in 0..12 {
            step(&mut h, &mut rng, &mut counters, &mut sent);
        }
        assert_eq!(
            h.gw.live().writes,
            0,
            "seed {seed} wrote to the venue in {mode:?}"
        );
        let c = h.gw.counters();
        rejected += c.rejects.iter().sum::<u64>();
        approved += c.approved.iter().sum::<u64>();
        assert_eq!(c.approved[Mode::Live as usize], 0);
    }
    println!("100000 sequences: {approved} approved, {rejected} rejected, 0 external writes");
    assert!(
        approved > 100_000 && rejected > 10_000,
        "the sequences exercise both outcomes"
    );
}

#[test]
fn a_resent_intent_never_makes_a_second_venue_order() {
    let mut rng = Rng(7);
    let mut h = harness(Mode::Live, &mut rng);
    let i = h.new_order(1, 1, 0, Side::Buy, "0.30", 1);
    h.send(i);
    for _ in 0..5 {
        let out = h.send(i).to_vec();
        assert!(matches!(out.as_slice(), [Event::Exec(r)] if r.header.kind == EventKind::Reject));
    }
    assert_eq!(h.gw.live().writes, 1);
    assert!(h.gw.live().created.contains(&id(1, 1)));
}
