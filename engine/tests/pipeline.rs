//! The threaded pipeline against the fused runner, and shutdown under load.

use pt_engine::model::{Event, Nanos};
use pt_engine::pipeline::synthetic::{self, digest};
use pt_engine::pipeline::{
    FusedRunner, GroupSpec, Outbox, Pipeline, PipelineConfig, PlacementMode, Stage, WaitStrategy,
};

/// The receive time both runs give input `seq`: inputs must be identical.
fn recv_time(seq: u64) -> Nanos {
    Nanos(1_700_000_000_000_000_000 + seq as i64)
}

/// Digests of every output of the fused runner for inputs `0..n`.
fn fused_digests(n: u64) -> Vec<u64> {
    let mut runner = FusedRunner::new(synthetic::stages()).unwrap();
    let mut out = Vec::with_capacity(n as usize);
    for seq in 0..n {
        runner.process(
            synthetic::input(seq, recv_time(seq)),
            Nanos(seq as i64),
            &mut |e| out.push(digest(&e)),
        );
    }
    out
}

fn threaded_digests(
    config: &PipelineConfig,
    n: u64,
) -> (Vec<u64>, Vec<pt_engine::pipeline::StageStats>) {
    let mut pipeline = Pipeline::start(config, synthetic::stages()).unwrap();
    let mut out = Vec::with_capacity(n as usize);
    let mut collect = |e: Event| out.push(digest(&e));
    for seq in 0..n {
        pipeline.send(synthetic::input(seq, recv_time(seq)), &mut collect);
    }
    let done = pipeline.shutdown(&mut collect);
    (out, done.stats)
}

fn assert_same(threaded: &[u64], fused: &[u64]) {
    if let Some(i) = threaded.iter().zip(fused).position(|(a, b)| a != b) {
        panic!("outputs diverge at index {i} of {}", fused.len());
    }
    assert_eq!(threaded.len(), fused.len(), "output counts differ");
}

#[test]
fn ten_million_events_threaded_and_fused_match() {
    const N: u64 = 10_000_000;
    let fused = fused_digests(N);
    // Four stage threads on whatever cores there are: the placement that
    // exercises every ring.
    let config = PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::SpinYield);
    let (threaded, stats) = threaded_digests(&config, N);
    assert_same(&threaded, &fused);
    assert_eq!(stats.len(), 4);
    assert_eq!(stats[0].events_in, N);
    for pair in stats.windows(2) {
        assert_eq!(
            pair[0].events_out, pair[1].events_in,
            "{} -> {}",
            pair[0].stage, pair[1].stage
        );
    }
    assert_eq!(stats[3].events_out, fused.len() as u64);
    // The workload really fans out and filters.
    assert!(stats[0].events_out > stats[0].events_in * 9 / 10);
    assert!(stats[2].events_out < stats[2].events_in);
    assert!(stats[3].events_out > stats[3].events_in);
}

#[test]
fn every_placement_gives_the_fused_outputs() {
    const N: u64 = 300_000;
    let fused = fused_digests(N);
    let groups = PipelineConfig {
        placement: PlacementMode::Groups,
        groups: vec![
            GroupSpec {
                name: "md".into(),
                stages: vec!["feed".into(), "book".into()],
                core: None,
            },
            GroupSpec {
                name: "trade".into(),
                stages: vec!["strategy".into(), "gateway".into()],
                core: None,
            },
        ],
        wait: Some(WaitStrategy::Park),
        ring_capacity: 64,
        ..PipelineConfig::default()
    };
    let configs = [
        PipelineConfig::default(),
        PipelineConfig::unpinned(PlacementMode::Fused, WaitStrategy::SpinYield),
        PipelineConfig {
            ring_capacity: 2,
            ..PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::Park)
        },
        groups,
    ];
    for config in &configs {
        let (threaded, _) = threaded_digests(config, N);
        assert_same(&threaded, &fused);
    }
}

/// Passes events on after a little work, so rings fill up behind it.
struct Slow(&'static str, u32);

impl Stage<u64> for Slow {
    fn name(&self) -> &str {
        self.0
    }
    fn on_event(&mut self, event: &u64, _now: Nanos, out: &mut Outbox<u64>) {
        let mut x = *event;
        for _ in 0..self.1 {
            x = std::hint::black_box(synthetic::mix(x));
        }
        let _ = std::hint::black_box(x);
        let _ = out.push(*event);
    }
}

#[test]
fn shutdown_under_load_loses_nothing() {
    const N: u64 = 2_000_000;
    let stages: Vec<Box<dyn Stage<u64>>> = vec![
        Box::new(Slow("a", 0)),
        Box::new(Slow("b", 8)),
        Box::new(Slow("c", 0)),
        Box::new(Slow("d", 16)),
    ];
    let config = PipelineConfig {
        ring_capacity: 1024,
        ..PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::SpinYield)
    };
    let mut pipeline = Pipeline::start(&config, stages).unwrap();
    let mut next = 0u64;
    let mut check = |v: u64| {
        assert_eq!(v, next, "output out of order or missing");
        next += 1;
    };
    for v in 0..N {
        pipeline.send(v, &mut check);
    }
    // Stop at once, with every ring still holding events.
    let in_flight_stats = pipeline.stats();
    let done = pipeline.shutdown(&mut check);
    assert_eq!(next, N, "events lost in shutdown");
    assert!(
        in_flight_stats[3].events_out < N,
        "the test should stop the pipeline while events are in flight"
    );
    for s in &done.stats {
        assert_eq!((s.events_in, s.events_out), (N, N), "stage {}", s.stage);
    }
    assert!(
        done.stats.iter().any(|s| s.full_waits > 0),
        "rings never filled: {:?}",
        done.stats
    );
    assert!(
        done.stats.iter().any(|s| s.max_depth > 512),
        "no backlog observed: {:?}",
        done.stats
    );
}

#[test]
fn latency_is_recorded_per_stage_and_merged_on_request() {
    let config = PipelineConfig::unpinned(PlacementMode::OnePerStage, WaitStrategy::SpinYield);
    let mut pipeline = Pipeline::start(&config, synthetic::stages()).unwrap();
    let mut outputs = 0u64;
    let mut count = |_: Event| outputs += 1;
    for seq in 0..100_000 {
        pipeline.send(synthetic::input(seq, Nanos::now()), &mut count);
    }
    // Let the stages catch up, then ask for a report while they run.
    pipeline.flush(&mut count);
    let mid = pipeline.latency(std::time::Duration::from_secs(5));
    let names: Vec<&str> = mid.histograms.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["feed", "book", "strategy", "gateway", "end-to-end"]);
    assert_eq!(
        mid.histograms[0].1.len(),
        100_000,
        "every input's first hop is recorded"
    );
    for seq in 100_000..150_000 {
        pipeline.send(synthetic::input(seq, Nanos::now()), &mut count);
    }
    let done = pipeline.shutdown(&mut count);
    let summaries = done.latency.summaries();
    assert_eq!(
        summaries[0].count, 150_000,
        "intervals merge into one total"
    );
    assert_eq!(summaries[1].count, done.stats[1].events_in);
    assert_eq!(summaries[4].count, done.stats[3].events_in);
    assert!(summaries.iter().all(|s| s.p50 <= s.p99 && s.p99 <= s.max));
}

#[test]
fn fused_runner_rejects_duplicate_names() {
    let stages: Vec<Box<dyn Stage<u64>>> = vec![Box::new(Slow("a", 0)), Box::new(Slow("a", 0))];
    assert!(
        FusedRunner::new(stages)
            .unwrap_err()
            .to_string()
            .contains("\"a\"")
    );
}
