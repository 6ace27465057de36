//! The measurements `pt-bench` runs.

use anyhow::Context;
use pt_benches::{Placement, Transport, median_of};
use pt_engine::model::{Event, Nanos};
use pt_engine::pipeline::{
    FusedRunner, Pipeline, PipelineConfig, PlacementMode, WaitStrategy, synthetic,
};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Bench {
    /// One-hop latency and one-way throughput of the pipeline link against
    /// raw rtrb, crossbeam ArrayQueue, std sync_channel and the disruptor
    /// crate, two threads pinned to the first two cores.
    Ring(RingArgs),
    /// Throughput and stage latency of the four-stage synthetic pipeline
    /// (feed, book, strategy, gateway), threaded by placement and fused.
    Pipeline(PipelineArgs),
    /// Journal append throughput and latency (64-byte payloads), writer to
    /// tailer latency between threads and between processes, and recovery
    /// time of a 1 GiB journal. Journals go to /dev/shm when it exists.
    Journal(JournalArgs),
    /// (Used by `pt-bench journal`.) Tail DIR until N records arrive and
    /// print their latency percentiles.
    #[command(hide = true)]
    JournalTailer {
        /// The journal directory.
        dir: PathBuf,
        /// Records to wait for.
        count: u64,
        /// Core to pin to.
        #[arg(long)]
        core: Option<usize>,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct JournalArgs {
    /// Appends per throughput sample.
    #[arg(long, default_value_t = 4_000_000)]
    appends: u64,
    /// Throughput samples (interleaved with the plain-file peer; median reported).
    #[arg(long, default_value_t = 5)]
    samples: usize,
    /// Records for each writer-to-tailer latency run.
    #[arg(long, default_value_t = 200_000)]
    records: u64,
    /// Microseconds between records in the latency runs.
    #[arg(long, default_value_t = 5)]
    interval_us: u64,
    /// Size of the journal for the recovery measurement, in MiB.
    #[arg(long, default_value_t = 1024)]
    recovery_mib: u64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RingArgs {
    /// Hops per latency sample.
    #[arg(long, default_value_t = 400_000)]
    hops: u64,
    /// Values per throughput sample.
    #[arg(long, default_value_t = 10_000_000)]
    count: u64,
    /// Samples per transport; the median is reported.
    #[arg(long, default_value_t = 9)]
    samples: usize,
    /// Ring capacity for the throughput runs.
    #[arg(long, default_value_t = 4096)]
    capacity: usize,
    /// Do not pin the two threads.
    #[arg(long)]
    no_pin: bool,
    /// Transports to measure, in this order (comma-separated): pt-link, rtrb,
    /// crossbeam-arrayqueue, std-sync-channel, disruptor.
    #[arg(long, value_delimiter = ',', value_parser = parse_transport)]
    transports: Vec<Transport>,
}

fn parse_transport(text: &str) -> Result<Transport, String> {
    Transport::ALL
        .into_iter()
        .find(|t| t.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = Transport::ALL.iter().map(|t| t.name()).collect();
            format!(
                "unknown transport {text:?}; expected one of {}",
                names.join(", ")
            )
        })
}

#[derive(Debug, clap::Args)]
pub(crate) struct PipelineArgs {
    /// Input events.
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Placement: auto, one-per-stage or fused (use --config for groups).
    #[arg(long, default_value = "auto", value_parser = parse_placement)]
    placement: PlacementMode,
    /// Wait strategy: busy-spin, spin-yield or park (default: chosen by placement).
    #[arg(long)]
    wait: Option<WaitStrategy>,
    /// Do not pin stage threads.
    #[arg(long)]
    no_pin: bool,
    /// Offer input at this many events per second instead of as fast as
    /// possible. At full speed the first stage's latency is mostly queueing
    /// behind a full ring; a paced run shows the latency of a loaded but
    /// unsaturated pipeline.
    #[arg(long)]
    rate: Option<u64>,
    /// Read the [pipeline] section from this TOML file instead of the flags.
    #[arg(long)]
    config: Option<PathBuf>,
}

fn parse_placement(text: &str) -> Result<PlacementMode, String> {
    match text {
        "auto" => Ok(PlacementMode::Auto),
        "one-per-stage" => Ok(PlacementMode::OnePerStage),
        "fused" => Ok(PlacementMode::Fused),
        "groups" => Err(
            "placement \"groups\" needs [[pipeline.group]] tables; pass them with --config FILE"
                .into(),
        ),
        other => Err(format!(
            "unknown placement {other:?}; expected auto, one-per-stage or fused"
        )),
    }
}

pub(crate) fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Ring(args) => ring(&args),
        Bench::Pipeline(args) => pipeline(&args),
        Bench::Journal(args) => journal(&args),
        Bench::JournalTailer { dir, count, core } => {
            if let Some(id) = core {
                core_affinity::set_for_current(core_affinity::CoreId { id });
            }
            println!("ready");
            let h = pt_benches::journal::timed_tailer(&dir, count, Duration::from_secs(300));
            println!(
                "{} {} {} {} {}",
                h.len(),
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max()
            );
            Ok(())
        }
    }
}

fn ns(d: Duration, n: u64) -> f64 {
    d.as_secs_f64() * 1e9 / n as f64
}

fn ring(args: &RingArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.hops > 0 && args.count > 0 && args.samples > 0,
        "--hops, --count and --samples must be at least 1"
    );
    let placement = if args.no_pin {
        Placement::default()
    } else {
        Placement::first_two_cores()
    };
    println!(
        "pt-bench ring: {} samples per transport; latency {} hops/sample, throughput {} values/sample, capacity {}; threads on cores {:?}/{:?}",
        args.samples, args.hops, args.count, args.capacity, placement.driver, placement.peer
    );
    println!(
        "{:<22} {:>14} {:>20} {:>16}",
        "transport", "one-hop ns", "(min..max)", "Mvalues/s"
    );
    let transports = if args.transports.is_empty() {
        Transport::ALL.to_vec()
    } else {
        args.transports.clone()
    };
    // Samples are interleaved (each round measures every transport once) so
    // that load from elsewhere on a shared host falls on all of them alike.
    let mut latency: Vec<Vec<Duration>> = vec![Vec::new(); transports.len()];
    let mut streaming: Vec<Vec<Duration>> = vec![Vec::new(); transports.len()];
    for round in 0..args.samples {
        eprint!("  sample {}/{} ...\r", round + 1, args.samples);
        for (k, transport) in transports.iter().enumerate() {
            latency[k].push(transport.one_hop(args.hops, placement));
            streaming[k].push(transport.stream(args.count, args.capacity, placement));
        }
    }
    let mut rows = Vec::new();
    for (k, &transport) in transports.iter().enumerate() {
        let (lat, lat_min, lat_max) = median_of(&mut latency[k]);
        let (thr, _, _) = median_of(&mut streaming[k]);
        let hop = ns(lat, args.hops);
        let rate = args.count as f64 / thr.as_secs_f64() / 1e6;
        println!(
            "{:<22} {:>14.1} {:>20} {:>16.1}",
            transport.name(),
            hop,
            format!(
                "({:.1}..{:.1})",
                ns(lat_min, args.hops),
                ns(lat_max, args.hops)
            ),
            rate
        );
        rows.push((transport, hop, rate));
    }
    let get = |t: Transport| rows.iter().find(|r| r.0 == t).map(|r| (r.1, r.2));
    println!();
    if let (Some((link_hop, link_rate)), Some((rtrb_hop, rtrb_rate))) =
        (get(Transport::PtLink), get(Transport::Rtrb))
    {
        println!(
            "pt-link throughput / raw rtrb: {:.3} (cost over rtrb: {:+.1}%)",
            link_rate / rtrb_rate,
            (rtrb_rate / link_rate - 1.0) * 100.0
        );
        println!("pt-link one-hop / raw rtrb:    {:.3}", link_hop / rtrb_hop);
    }
    let best_peer = [
        Transport::CrossbeamArrayQueue,
        Transport::StdSyncChannel,
        Transport::Disruptor,
    ]
    .into_iter()
    .filter_map(|t| get(t).map(|r| (t, r.0)))
    .min_by(|a, b| a.1.total_cmp(&b.1));
    if let (Some((link_hop, _)), Some((peer, peer_hop))) = (get(Transport::PtLink), best_peer) {
        println!(
            "pt-link one-hop / best of the peers measured ({}): {:.3}",
            peer.name(),
            link_hop / peer_hop
        );
    }
    Ok(())
}

fn pipeline(args: &PipelineArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.events > 0, "--events must be at least 1");
    let config = match &args.config {
        Some(path) => load_pipeline_config(path)?,
        None => PipelineConfig {
            placement: args.placement,
            wait: args.wait,
            pin: !args.no_pin,
            ..PipelineConfig::default()
        },
    };
    let n = args.events;

    // Fused on this thread: the cost of the stages alone.
    let mut runner = FusedRunner::new(synthetic::stages())?;
    let mut fused_out = 0u64;
    let start = Instant::now();
    for seq in 0..n {
        let now = Nanos::now();
        runner.process(synthetic::input(seq, now), now, &mut |_| fused_out += 1);
    }
    let fused = start.elapsed();

    let mut pipeline =
        Pipeline::start(&config, synthetic::stages()).context("cannot start the pipeline")?;
    println!(
        "placement ({} threads, wait {}):",
        pipeline.plan().threads.len(),
        pipeline.plan().wait
    );
    for t in &pipeline.plan().threads {
        println!(
            "  pt-{:<24} stages {:?} core {}",
            t.name,
            t.stages,
            t.core.map_or("-".to_owned(), |c| c.to_string())
        );
    }
    let mut out = 0u64;
    let mut sink = |_: Event| out += 1;
    let start = Instant::now();
    let step = (n / 20).max(1);
    let interval = args.rate.filter(|&r| r > 0).map(|r| 1e9 / r as f64);
    for seq in 0..n {
        if let Some(interval) = interval {
            let due = start + Duration::from_nanos((seq as f64 * interval) as u64);
            while Instant::now() < due {
                pipeline.drain(&mut sink);
                core::hint::spin_loop();
            }
        }
        pipeline.send(synthetic::input(seq, Nanos::now()), &mut sink);
        if seq % step == step - 1 {
            eprint!("  {:>3}%\r", (seq + 1) * 100 / n);
        }
    }
    pipeline.flush(&mut sink);
    let threaded = start.elapsed();
    let done = pipeline.shutdown(&mut sink);
    anyhow::ensure!(
        out == fused_out,
        "threaded run emitted {out} events, fused {fused_out}"
    );

    println!("{n} input events, {out} outputs");
    println!(
        "  fused (one thread):  {:>8.2} M events/s  {:>7.1} ns/event",
        n as f64 / fused.as_secs_f64() / 1e6,
        ns(fused, n)
    );
    println!(
        "  threaded:            {:>8.2} M events/s  {:>7.1} ns/event",
        n as f64 / threaded.as_secs_f64() / 1e6,
        ns(threaded, n)
    );
    println!();
    println!(
        "{:<10} {:<24} {:>5} {:>12} {:>12} {:>12} {:>10}",
        "stage", "thread", "core", "in", "out", "full waits", "max depth"
    );
    for s in &done.stats {
        println!(
            "{:<10} {:<24} {:>5} {:>12} {:>12} {:>12} {:>10}",
            s.stage,
            s.thread,
            s.core.map_or("-".to_owned(), |c| c.to_string()),
            s.events_in,
            s.events_out,
            s.full_waits,
            s.max_depth
        );
    }
    println!();
    println!(
        "latency to each stage, ns (previous stamp or receive time -> stage takes the event):"
    );
    println!(
        "{:<12} {:>12} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "stage", "count", "p50", "p90", "p99", "p99.9", "max"
    );
    for s in done.latency.summaries() {
        println!(
            "{:<12} {:>12} {:>10} {:>10} {:>10} {:>10} {:>12}",
            s.stage, s.count, s.p50, s.p90, s.p99, s.p999, s.max
        );
    }
    if done.pinned.iter().any(|p| !p) {
        println!("warning: some threads could not be pinned to their cores");
    }
    Ok(())
}

fn load_pipeline_config(path: &std::path::Path) -> anyhow::Result<PipelineConfig> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        pipeline: PipelineConfig,
    }
    let file: File = pt_engine::config::load_toml(path)?;
    Ok(file.pipeline)
}

fn percentiles(name: &str, h: &hdrhistogram::Histogram<u64>) {
    println!(
        "{:<34} {:>10} {:>8} {:>8} {:>8} {:>10}",
        name,
        h.len(),
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
}

fn journal(args: &JournalArgs) -> anyhow::Result<()> {
    use pt_benches::journal as jb;
    anyhow::ensure!(
        args.appends > 0 && args.samples > 0 && args.records > 0,
        "counts must be at least 1"
    );
    let dir = jb::bench_dir("pt-bench");
    println!(
        "pt-bench journal: journals under {}",
        dir.parent().map_or("?".into(), |p| p.display().to_string())
    );

    // Throughput, interleaved with the plain-file peer.
    let (mut writer, _) = pt_journal::Writer::open(&dir, jb::config())?;
    let file_path = dir.with_extension("bufwriter");
    let mut ours = Vec::new();
    let mut peer = Vec::new();
    for round in 0..args.samples {
        eprint!("  throughput sample {}/{} ...\r", round + 1, args.samples);
        ours.push(jb::append(&mut writer, args.appends));
        jb::trim(&dir);
        let file = std::fs::File::create(&file_path)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        peer.push(jb::append_bufwriter(
            &mut out,
            round as u64 * args.appends,
            args.appends,
        ));
    }
    let _ = std::fs::remove_file(&file_path);
    let (ours, _, _) = median_of(&mut ours);
    let (peer, _, _) = median_of(&mut peer);
    let rate = |d: Duration| args.appends as f64 / d.as_secs_f64() / 1e6;
    println!(
        "append {}-byte payloads, one thread (median of {}):",
        jb::PAYLOAD,
        args.samples
    );
    println!(
        "  pt-journal       {:>8.1} M appends/s  {:>6.1} ns/append",
        rate(ours),
        ns(ours, args.appends)
    );
    println!(
        "  bufwriter-file   {:>8.1} M appends/s  {:>6.1} ns/append",
        rate(peer),
        ns(peer, args.appends)
    );
    println!("  ratio            {:>8.2}", rate(ours) / rate(peer));
    // With retention the writer recycles removed segments: measured alone,
    // since its helper thread would otherwise compete with the runs above.
    let rdir = jb::bench_dir("pt-bench-recycling");
    let (mut recycling, _) = pt_journal::Writer::open(&rdir, jb::config_recycling())?;
    jb::append(&mut recycling, 4_000_000); // reach the 256 MiB budget
    jb::settle();
    let mut recycled: Vec<Duration> = (0..args.samples)
        .map(|_| jb::append(&mut recycling, args.appends))
        .collect();
    drop(recycling);
    let _ = std::fs::remove_dir_all(&rdir);
    let (recycled, _, _) = median_of(&mut recycled);
    println!(
        "  pt-journal, retention 256 MiB (segments recycled) {:>6.1} M appends/s  {:>6.1} ns/append",
        rate(recycled),
        ns(recycled, args.appends)
    );
    let burst_n = 500_000;
    let mut bursts: Vec<Duration> = (0..args.samples)
        .map(|_| jb::append_burst(burst_n))
        .collect();
    let (burst, _, _) = median_of(&mut bursts);
    println!(
        "  pt-journal burst {:>8.1} M appends/s  {:>6.1} ns/append ({burst_n} appends into a prepared segment, no roll)",
        burst_n as f64 / burst.as_secs_f64() / 1e6,
        ns(burst, burst_n)
    );
    println!("  (sustained rates include creating a 64 MiB segment per ~700,000 appends)");

    println!();
    println!(
        "{:<34} {:>10} {:>8} {:>8} {:>8} {:>10}",
        "latency, ns", "count", "p50", "p99", "p99.9", "max"
    );
    let overhead = jb::clock_overhead_ns();
    let h = jb::append_latency(&mut writer, args.appends);
    percentiles("append (incl. one clock read)", &h);
    println!("  (a clock read pair costs {overhead} ns here)");
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);

    let interval = Duration::from_micros(args.interval_us);
    let h = jb::tail_latency_threads(args.records, interval);
    percentiles("writer -> tailer, threads", &h);

    // Between processes: this binary, started again as the tailer.
    let xdir = jb::bench_dir("pt-bench-xproc");
    let (mut writer, _) = pt_journal::Writer::open(&xdir, jb::config())?;
    let placement = Placement::first_two_cores();
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command
        .arg("journal-tailer")
        .arg(&xdir)
        .arg(args.records.to_string());
    // The child would inherit this thread's pinning; give it the other core.
    if let Some(core) = placement.peer {
        command.arg("--core").arg(core.to_string());
    }
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start the tailer process")?;
    let stdout = child.stdout.take().context("tailer stdout")?;
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    anyhow::ensure!(
        lines.next().transpose()?.as_deref() == Some("ready"),
        "the tailer process did not start"
    );
    jb::settle();
    pt_benches::journal::paced_writer(&mut writer, args.records, interval);
    let result = lines.next().transpose()?.unwrap_or_default();
    let _ = child.wait();
    let fields: Vec<u64> = result
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    if let [count, p50, p99, p999, max] = fields[..] {
        println!(
            "{:<34} {:>10} {:>8} {:>8} {:>8} {:>10}",
            "writer -> tailer, processes", count, p50, p99, p999, max
        );
    } else {
        println!("writer -> tailer, processes: the tailer reported {result:?}");
    }
    drop(writer);
    let _ = std::fs::remove_dir_all(&xdir);

    println!();
    eprint!("  writing a {} MiB journal ...\r", args.recovery_mib);
    let (rdir, n) = jb::build_large(args.recovery_mib << 20);
    let (took, recovery) = jb::time_recovery(&rdir);
    println!(
        "recovery of a {} MiB journal ({n} records, torn tail): {:.1} ms",
        args.recovery_mib,
        took.as_secs_f64() * 1e3
    );
    println!("  {recovery}");
    // Seeking: segment headers pick the segment, the sparse index the spot.
    let mut seeks: Vec<Duration> = (1..=9)
        .map(|k| {
            let target = n * k / 10;
            let start = Instant::now();
            let found = pt_journal::Tailer::open(&rdir, pt_journal::StartAt::Seq(target))
                .ok()
                .and_then(|mut t| t.next().ok().flatten().map(|r| r.seq));
            let took = start.elapsed();
            if found != Some(target) {
                eprintln!("seek to {target} found {found:?}");
            }
            took
        })
        .collect();
    let (seek, seek_min, seek_max) = median_of(&mut seeks);
    println!(
        "seek to a sequence number (9 targets across the journal): median {:.1} µs ({:.1}..{:.1})",
        seek.as_secs_f64() * 1e6,
        seek_min.as_secs_f64() * 1e6,
        seek_max.as_secs_f64() * 1e6
    );
    let start = Instant::now();
    let report = pt_journal::verify(&rdir)?;
    println!(
        "verify of the whole journal: {:.1} ms ({} records, {})",
        start.elapsed().as_secs_f64() * 1e3,
        report.records,
        if report.problem.is_none() {
            "ok"
        } else {
            "PROBLEM"
        }
    );
    let _ = std::fs::remove_dir_all(&rdir);
    Ok(())
}
