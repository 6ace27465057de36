//! The supervisor of `pt engine`: spawn, handshake, watch, restart, stop.
//!
//! The start-up contract: the engine prints `pt-engine ready nonce=<hex>`
//! on stdout; the supervisor answers on the engine's stdin with
//! `nonce=<hex>` and then the venue key's PEM, if there is one, and keeps
//! stdin open: the engine stops itself cleanly when it closes, so an engine
//! outlives its supervisor (even one killed with SIGKILL) by no more than
//! its clean stop. The key never goes into the engine's argv or environment (the
//! variable it came from is removed from the child's environment), into a
//! file or into a log line.
//!
//! Once ready the engine must write a heartbeat into `md/` at least every
//! `heartbeat_timeout`; one that does not is killed (SIGKILL) and, like one
//! that crashed, restarted after a backoff that doubles from `restart_min`
//! to `restart_max` (back to `restart_min` after a minute of good health).
//! The engine recovers from its journals and reconciles on its own. An
//! engine that exits with success (a Shutdown command, `--seconds`) is not
//! restarted: the supervisor stops too.

use pt_engine::model::heartbeat::Beat;
use pt_engine::model::journal_kind::event_kind;
use pt_engine::model::{Event, EventKind};
use pt_journal::{StartAt, Tailer};
use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The readiness line's prefix.
pub const READY: &str = "pt-engine ready nonce=";

/// A secret held in memory only, overwritten when dropped.
pub struct Secret(Vec<u8>);

impl Secret {
    /// Takes `text` (a PEM).
    pub fn new(text: String) -> Secret {
        Secret(text.into_bytes())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// How to run and watch the engine.
#[derive(Debug)]
pub struct SupervisorConfig {
    /// The `pt` binary.
    pub program: PathBuf,
    /// Its arguments (`engine --config … --stdin-secrets`).
    pub args: Vec<OsString>,
    /// Variables removed from the child's environment.
    pub env_remove: Vec<String>,
    /// The venue key passed on stdin.
    pub secret: Option<Secret>,
    /// The engine's `md/` journal, where its heartbeats are.
    pub md_dir: PathBuf,
    pub heartbeat_timeout: Duration,
    /// The first heartbeat may take this long after the readiness line.
    pub first_heartbeat: Duration,
    /// The readiness line must come within this long of the spawn.
    pub ready_timeout: Duration,
    pub restart_min: Duration,
    pub restart_max: Duration,
    pub stop_timeout: Duration,
}

/// What the supervisor reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// An engine process was started.
    Spawned { pid: u32, attempt: u32 },
    /// It printed its readiness line and took its secrets.
    Ready { pid: u32 },
    /// A line the engine printed on stdout after its readiness line.
    Output { line: String },
    /// It missed its heartbeats and was killed.
    Unresponsive { pid: u32, silent_ms: u64 },
    /// It exited.
    Exited {
        pid: u32,
        status: String,
        clean: bool,
    },
    /// A restart is due after this long.
    Restarting { after: Duration },
    /// The supervisor stopped it on request.
    Stopped { pid: u32, status: String },
}

/// Watches `md/` for the heartbeats of one engine process (each carries
/// its pid), from the journal's end.
struct Heartbeats {
    dir: PathBuf,
    pid: u32,
    tailer: Option<Tailer>,
    last: Instant,
}

impl Heartbeats {
    fn new(dir: PathBuf, pid: u32, grace: Duration) -> Heartbeats {
        Heartbeats {
            dir,
            pid,
            tailer: None,
            last: Instant::now() + grace,
        }
    }

    /// Reads what is new; returns how long since the last heartbeat
    /// (zero while in the grace period).
    fn poll(&mut self) -> Duration {
        if self.tailer.is_none() {
            self.tailer = Tailer::open(&self.dir, StartAt::End).ok();
        }
        if let Some(t) = &mut self.tailer {
            while let Ok(Some(r)) = t.next() {
                if event_kind(r.kind) == Some(EventKind::Command)
                    && let Ok(Event::Command(c)) = Event::from_bytes(r.payload)
                    && Beat::read(&c).is_some_and(|b| b.pid == self.pid)
                {
                    self.last = Instant::now();
                }
            }
        }
        Instant::now().saturating_duration_since(self.last)
    }
}

/// Sends `signal` to `pid`.
#[allow(unsafe_code)]
fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

fn describe(s: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "unknown".to_owned(),
    }
}

/// Runs the engine until `stop` is raised or it exits cleanly.
#[derive(Debug)]
pub struct Supervisor {
    config: SupervisorConfig,
}

enum Outcome {
    Stop,
    Restart,
}

impl Supervisor {
    /// A supervisor of the engine `config` describes.
    pub fn new(config: SupervisorConfig) -> Supervisor {
        Supervisor { config }
    }

    /// Runs, reporting each step to `report`, until `stop` is raised (the
    /// engine is then stopped with SIGTERM, and SIGKILL after
    /// `stop_timeout`) or the engine exits with success.
    pub fn run(&mut self, stop: &AtomicBool, mut report: impl FnMut(Report)) -> anyhow::Result<()> {
        let mut backoff = self.config.restart_min;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let outcome = self.once(attempt, stop, &mut report)?;
            if let Outcome::Stop = outcome {
                return Ok(());
            }
            if started.elapsed() >= Duration::from_secs(60) {
                backoff = self.config.restart_min;
            }
            report(Report::Restarting { after: backoff });
            let until = Instant::now() + backoff;
            while Instant::now() < until {
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            backoff = (backoff * 2).min(self.config.restart_max);
        }
    }

    fn spawn(&self) -> anyhow::Result<Child> {
        let mut cmd = Command::new(&self.config.program);
        cmd.args(&self.config.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for v in &self.config.env_remove {
            cmd.env_remove(v);
        }
        cmd.spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", self.config.program.display()))
    }

    fn answer(&self, stdin: &mut ChildStdin, nonce: &str) -> std::io::Result<()> {
        writeln!(stdin, "nonce={nonce}")?;
        if let Some(s) = &self.config.secret {
            stdin.write_all(&s.0)?;
            if s.0.last() != Some(&b'\n') {
                stdin.write_all(b"\n")?;
            }
        }
        stdin.flush()
    }

    fn once(
        &mut self,
        attempt: u32,
        stop: &AtomicBool,
        report: &mut impl FnMut(Report),
    ) -> anyhow::Result<Outcome> {
        let mut child = self.spawn()?;
        let pid = child.id();
        report(Report::Spawned { pid, attempt });
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("pt-engine-stdout".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })?;
        let mut stdin = child.stdin.take();
        let deadline = Instant::now() + self.config.ready_timeout;
        let mut ready = false;
        let mut beats: Option<Heartbeats> = None;
        loop {
            while let Ok(line) = rx.try_recv() {
                match line.strip_prefix(READY) {
                    Some(nonce) if !ready => {
                        let nonce = nonce.trim().to_owned();
                        if let Some(s) = stdin.as_mut()
                            && self.answer(s, &nonce).is_err()
                        {
                            // The engine went away; its exit is seen below.
                        }
                        ready = true;
                        beats = Some(Heartbeats::new(
                            self.config.md_dir.clone(),
                            pid,
                            self.config.first_heartbeat,
                        ));
                        report(Report::Ready { pid });
                    }
                    _ => report(Report::Output { line }),
                }
            }
            if let Some(status) = child.try_wait()? {
                let clean = status.success();
                report(Report::Exited {
                    pid,
                    status: describe(status),
                    clean,
                });
                return Ok(if clean || stop.load(Ordering::Relaxed) {
                    Outcome::Stop
                } else {
                    Outcome::Restart
                });
            }
            if stop.load(Ordering::Relaxed) {
                let status = self.stop(&mut child)?;
                report(Report::Stopped {
                    pid,
                    status: describe(status),
                });
                return Ok(Outcome::Stop);
            }
            if !ready && Instant::now() >= deadline {
                let _ = child.kill();
                let status = child.wait()?;
                report(Report::Exited {
                    pid,
                    status: format!(
                        "no readiness line within {} ms ({})",
                        self.config.ready_timeout.as_millis(),
                        describe(status)
                    ),
                    clean: false,
                });
                return Ok(Outcome::Restart);
            }
            if let Some(b) = &mut beats {
                let silent = b.poll();
                if silent >= self.config.heartbeat_timeout {
                    let _ = child.kill();
                    let _ = child.wait()?;
                    report(Report::Unresponsive {
                        pid,
                        silent_ms: silent.as_millis() as u64,
                    });
                    return Ok(Outcome::Restart);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&self, child: &mut Child) -> anyhow::Result<ExitStatus> {
        signal(child.id(), libc::SIGTERM);
        let until = Instant::now() + self.config.stop_timeout;
        loop {
            if let Some(s) = child.try_wait()? {
                return Ok(s);
            }
            if Instant::now() >= until {
                let _ = child.kill();
                return Ok(child.wait()?);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
