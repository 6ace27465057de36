//! Writing into an engine's `commands/` journal, as the control plane,
//! `pt signal`, `pt param` and the demo's signal source do.

use anyhow::Context as _;
use pt_engine::model::journal_kind::journal_kind;
use pt_engine::model::{Command, Event, Nanos};
use pt_journal::{Writer, WriterConfig};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The commands journal's folder in the data directory.
pub const COMMANDS: &str = "commands";

/// A writer of the commands journal in a data directory.
#[derive(Debug)]
pub struct CommandWriter {
    writer: Writer,
    dir: PathBuf,
}

impl CommandWriter {
    /// Opens `data_dir/commands`, waiting up to two seconds for another
    /// writer (another console command) to let go of it.
    pub fn open(data_dir: &Path) -> anyhow::Result<CommandWriter> {
        let dir = data_dir.join(COMMANDS);
        let config = WriterConfig {
            segment_size: 1 << 20,
            ..WriterConfig::default()
        };
        let until = Instant::now() + Duration::from_secs(2);
        loop {
            match Writer::open(&dir, config) {
                Ok((writer, _)) => return Ok(CommandWriter { writer, dir }),
                Err(e) if Instant::now() >= until => {
                    return Err(e).with_context(|| format!("opening {}", dir.display()));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Appends `c` at `now`; returns its sequence number.
    pub fn send(&mut self, c: &Command, now: Nanos) -> anyhow::Result<u64> {
        let e = Event::Command(*c);
        self.writer
            .append(journal_kind(e.kind()), now.0, &e.to_bytes())
            .with_context(|| format!("writing {}", self.dir.display()))
    }

    /// Where it writes.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
