//! `pt replay DIR`: feeds a run's `md/` journal (every input its decision
//! path took, with the time it took it) through the same books, strategies
//! and gateway on a simulated clock (the recorded times), and checks that
//! the orders it journals are the run's `orders/`, byte for byte.

use crate::engine::config::EngineConfig;
use crate::engine::core::{Core, LiveVenue};
use crate::engine::run::{MD, ORDERS, policy_versions, read_events};
use anyhow::Context as _;
use pt_engine::model::{Event, Mono, Nanos};
use pt_gateway::{Disconnected, PolicyVersions};
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub(crate) struct ReplayArgs {
    /// The run's data directory (holding md/, orders/ and pt.toml).
    #[arg(required_unless_present = "journal", conflicts_with = "journal")]
    dir: Option<PathBuf>,
    /// The same as DIR.
    #[arg(long, value_name = "DIR")]
    journal: Option<PathBuf>,
    /// The engine's config (default: DIR/pt.toml, the copy the run saved).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How fast: `max` (as fast as it goes), `realtime` (the recorded
    /// pace) or `Nx` (N times the recorded pace, e.g. 10x).
    #[arg(long, default_value = "max", value_parser = parse_speed)]
    speed: Speed,
}

/// How fast a replay runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Speed {
    Max,
    Times(f64),
}

fn parse_speed(text: &str) -> Result<Speed, String> {
    match text {
        "max" => Ok(Speed::Max),
        "realtime" => Ok(Speed::Times(1.0)),
        _ => text
            .strip_suffix('x')
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n > 0.0)
            .map(Speed::Times)
            .ok_or_else(|| format!("{text:?}: expected max, realtime or a factor such as 10x")),
    }
}

/// FNV-1a over every replayed record and its time: a digest two runs of
/// the same input agree on.
fn digest(records: &[(Event, Nanos)]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (e, at) in records {
        for b in e.to_bytes().iter().chain(&at.0.to_le_bytes()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Progress on stderr: a bar redrawn in place on a terminal, a line at
/// every tenth otherwise.
struct Progress {
    total: usize,
    tty: bool,
    next_draw: Instant,
    next_tenth: usize,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            tty: std::io::stderr().is_terminal(),
            next_draw: Instant::now(),
            next_tenth: total / 10,
        }
    }

    fn show(&mut self, done: usize) {
        if self.tty {
            if Instant::now() < self.next_draw && done < self.total {
                return;
            }
            self.next_draw = Instant::now() + Duration::from_millis(100);
            let width = 40;
            let filled = (done * width).checked_div(self.total).unwrap_or(width);
            let _ = write!(
                std::io::stderr(),
                "\r  [{}{}] {done}/{} inputs",
                "#".repeat(filled),
                " ".repeat(width - filled),
                self.total
            );
            if done == self.total {
                let _ = writeln!(std::io::stderr());
            }
        } else if done >= self.next_tenth && self.total >= 10 {
            eprintln!("  {done}/{} inputs", self.total);
            self.next_tenth += self.total / 10;
        }
    }
}

pub(crate) fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let dir = args
        .dir
        .or(args.journal)
        .context("give the run's data directory")?;
    let config_path = args.config.clone().unwrap_or_else(|| dir.join("pt.toml"));
    let config = EngineConfig::load(&config_path)
        .with_context(|| format!("the run's config {}", config_path.display()))?;
    let md = dir.join(MD);
    if !md.exists() {
        anyhow::bail!(
            "{}: no md/ journal; give a data directory `pt engine` or `pt demo` wrote",
            dir.display()
        );
    }
    let inputs = read_events(&md)?;
    let orders = dir.join(ORDERS);
    let recorded = if orders.exists() {
        Some(read_events(&orders)?)
    } else {
        None
    };
    let capacity = recorded.as_ref().map_or(inputs.len() / 4, Vec::len);
    // The risk policies the run switched to, from its data directory.
    let policies = policy_versions(&PolicyVersions::in_data_dir(&dir))?;
    let mut core = Core::new(
        &config,
        Vec::<(Event, Nanos)>::with_capacity(capacity),
        &[],
        &policies,
        LiveVenue::Off(Disconnected),
    )?;
    let mut progress = Progress::new(inputs.len());
    let (mut market, mut commands, mut other) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    let first = inputs.first().map_or(0, |(_, t)| t.0);
    for (k, (e, now)) in inputs.iter().enumerate() {
        if let Speed::Times(x) = args.speed {
            let due = Duration::from_nanos(((now.0 - first).max(0) as f64 / x) as u64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        match e {
            Event::Market(m) => {
                market += 1;
                core.market(*m, *now, Mono::UNSET);
            }
            Event::Command(c) => {
                commands += 1;
                core.command(*c, *now, Mono::UNSET);
            }
            _ => other += 1,
        }
        if k % 4096 == 0 {
            progress.show(k);
        }
    }
    progress.show(inputs.len());
    let took = started.elapsed().as_secs_f64().max(1e-9);
    let replayed = core.gateway().journal();
    println!(
        "replayed {} inputs ({market} market events, {commands} commands, {other} passed over) in {took:.3} s: {:.2} M inputs/s",
        inputs.len(),
        inputs.len() as f64 / took / 1e6,
    );
    println!(
        "orders: {} records, digest {:016x}",
        replayed.len(),
        digest(replayed)
    );
    let Some(recorded) = recorded else {
        println!("no orders/ journal to compare with");
        return Ok(());
    };
    for (i, (a, b)) in replayed.iter().zip(&recorded).enumerate() {
        if a.0.to_bytes() != b.0.to_bytes() || a.1 != b.1 {
            anyhow::bail!(
                "orders record {i} differs:\n  replay: {:?} at {}\n  run:    {:?} at {}",
                a.0,
                a.1,
                b.0,
                b.1
            );
        }
    }
    if replayed.len() != recorded.len() {
        anyhow::bail!(
            "the replay journaled {} orders records, the run {}; the first {} agree (a run that was restarted, or whose journal was cut, cannot be replayed from md/ alone)",
            replayed.len(),
            recorded.len(),
            replayed.len().min(recorded.len())
        );
    }
    println!(
        "identical to the run's orders/ ({} records, digest {:016x}): every intent, report and command, byte for byte and at the same times",
        recorded.len(),
        digest(&recorded)
    );
    Ok(())
}
