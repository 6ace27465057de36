//! A helper thread that works off the append path:
//!
//! - creates and pre-faults the next segment, so rolling over only writes a
//!   header;
//! - unmaps finished segments (unmapping 64 MiB takes milliseconds);
//! - with a retention policy, applies it at every roll and *recycles* the
//!   oldest removed segment: its file is renamed aside, zeroed through the map
//!   it already has, and becomes the next segment, so a journal at its
//!   retention budget appends without the kernel allocating or mapping pages.

use crate::files::{IndexFile, Prepared, RECYCLING, Retired, index_path, prepare, segment_path};
use crate::inspect::{Retention, removable};
use crate::map::WriteMap;
use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

enum Job {
    Prepare(u64),
    Retire(Box<Retired>),
}

#[derive(Debug)]
pub(crate) struct Preparer {
    dir: PathBuf,
    size: u64,
    interval: u32,
    requests: Option<mpsc::Sender<Job>>,
    ready: mpsc::Receiver<std::io::Result<Prepared>>,
    pending: Option<u64>,
    handle: Option<JoinHandle<()>>,
}

/// The helper thread's state.
struct Helper {
    dir: PathBuf,
    size: u64,
    interval: u32,
    retention: Option<Retention>,
    /// Finished segments still mapped, oldest first (only with retention).
    kept: VecDeque<Retired>,
    /// A zeroed segment file and its map, waiting to become the next segment.
    spare: Option<(File, WriteMap)>,
}

impl Helper {
    fn prepare(&mut self, number: u64) -> std::io::Result<Prepared> {
        if let Some((file, map)) = self.spare.take() {
            std::fs::rename(self.dir.join(RECYCLING), segment_path(&self.dir, number))?;
            let index = IndexFile::create(&self.dir, number, self.size, self.interval)?;
            return Ok(Prepared { file, map, index });
        }
        prepare(&self.dir, number, self.size, self.interval)
    }

    fn retire(&mut self, finished: Retired) {
        let Some(policy) = self.retention else {
            drop(finished); // unmaps here, off the append path
            return;
        };
        self.kept.push_back(finished);
        let Ok(victims) = removable(&self.dir, policy, crate::writer::now_ns()) else {
            return;
        };
        for victim in victims {
            let kept = self
                .kept
                .iter()
                .position(|r| r.number == victim.number)
                .and_then(|i| self.kept.remove(i));
            match kept {
                Some(segment) if self.spare.is_none() && segment.map.len() as u64 == self.size => {
                    self.recycle(segment);
                }
                other => {
                    drop(other);
                    let _ = std::fs::remove_file(segment_path(&self.dir, victim.number));
                    let _ = std::fs::remove_file(index_path(&self.dir, victim.number));
                }
            }
        }
    }

    /// Renames the segment aside (so nothing reads it as a segment any more),
    /// then zeroes it through its map.
    fn recycle(&mut self, segment: Retired) {
        let Retired {
            number,
            file,
            mut map,
            index,
        } = segment;
        drop(index);
        let _ = std::fs::remove_file(index_path(&self.dir, number));
        if std::fs::rename(segment_path(&self.dir, number), self.dir.join(RECYCLING)).is_err() {
            let _ = std::fs::remove_file(segment_path(&self.dir, number));
            return;
        }
        map.bytes_mut().fill(0);
        self.spare = Some((file, map));
    }
}

impl Preparer {
    pub(crate) fn start(
        dir: PathBuf,
        size: u64,
        interval: u32,
        retention: Option<Retention>,
    ) -> std::io::Result<Preparer> {
        // A file left aside by a crash in the middle of recycling is garbage.
        let _ = std::fs::remove_file(dir.join(RECYCLING));
        let (req_tx, req_rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut helper = Helper {
            dir: dir.clone(),
            size,
            interval,
            retention,
            kept: VecDeque::new(),
            spare: None,
        };
        let handle = std::thread::Builder::new()
            .name("pt-journal-prep".into())
            .spawn(move || {
                for job in req_rx {
                    match job {
                        Job::Prepare(number) => {
                            if ready_tx.send(helper.prepare(number)).is_err() {
                                return;
                            }
                        }
                        Job::Retire(finished) => helper.retire(*finished),
                    }
                }
                if helper.spare.take().is_some() {
                    let _ = std::fs::remove_file(helper.dir.join(RECYCLING));
                }
            })?;
        Ok(Preparer {
            dir,
            size,
            interval,
            requests: Some(req_tx),
            ready: ready_rx,
            pending: None,
            handle: Some(handle),
        })
    }

    /// Starts preparing segment `number` in the background.
    pub(crate) fn request(&mut self, number: u64) {
        if let Some(tx) = &self.requests
            && tx.send(Job::Prepare(number)).is_ok()
        {
            self.pending = Some(number);
        }
    }

    /// Hands a finished segment to the helper thread (to unmap, or to keep
    /// for recycling).
    pub(crate) fn retire(&mut self, finished: Retired) {
        if let Some(tx) = &self.requests {
            // If the thread is gone, the segment drops here instead.
            let _ = tx.send(Job::Retire(Box::new(finished)));
        }
    }

    /// Segment `number`, prepared: the background one if it is that number
    /// (waiting for it if need be), otherwise made now.
    pub(crate) fn take(&mut self, number: u64) -> std::io::Result<Prepared> {
        if self.pending == Some(number) {
            self.pending = None;
            if let Ok(result) = self.ready.recv() {
                return result;
            }
        }
        prepare(&self.dir, number, self.size, self.interval)
    }
}

impl Drop for Preparer {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        // A segment prepared but never started is blank; remove it so the
        // directory holds only real segments.
        if let Some(number) = self.pending.take() {
            if let Ok(Ok(prepared)) = self.ready.try_recv() {
                drop(prepared);
            }
            remove_blank(&self.dir, number);
        }
    }
}

fn remove_blank(dir: &Path, number: u64) {
    let _ = std::fs::remove_file(segment_path(dir, number));
    let _ = std::fs::remove_file(index_path(dir, number));
}
