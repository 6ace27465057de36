//! The writer lock: one writer per journal, named by pid.

use crate::error::{JournalError, io};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// File name of the lock in a journal directory.
pub const LOCK_FILE: &str = "writer.lock";

/// A held writer lock. The OS releases it when the process dies, however it
/// dies; the pid inside tells a second writer who holds it.
#[derive(Debug)]
pub(crate) struct WriterLock {
    file: File,
}

impl WriterLock {
    /// Takes the lock; returns it and the pid of a dead previous holder that
    /// did not release it cleanly, if any.
    pub(crate) fn acquire(dir: &Path) -> Result<(WriterLock, Option<u32>), JournalError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("open the lock file", &path))?;
        let mut previous = String::new();
        let _ = file.read_to_string(&mut previous);
        let previous_pid = previous.trim().parse::<u32>().ok();
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Locked {
                    path,
                    pid: previous_pid,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("lock", &path)(e)),
        }
        // We hold the lock, so any pid still written in the file belongs to
        // a writer that died without closing.
        let stale = previous_pid.filter(|&pid| pid != std::process::id());
        file.set_len(0).map_err(io("write the lock file", &path))?;
        file.rewind().map_err(io("write the lock file", &path))?;
        writeln!(file, "{}", std::process::id()).map_err(io("write the lock file", &path))?;
        Ok((WriterLock { file }, stale))
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // A clean close leaves no pid behind, so the next writer sees no
        // stale lock. The OS lock goes with the file handle.
        let _ = self.file.set_len(0);
    }
}
