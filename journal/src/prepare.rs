//! A helper thread that creates and pre-faults the next segment, so rolling
//! over on the append path only writes a header, and that unmaps finished
//! segments (an unmap of a 64 MiB map takes milliseconds).

use crate::files::{Prepared, index_path, prepare, segment_path};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

enum Job {
    Prepare(u64),
    /// A finished segment's map and files, to be unmapped and closed here.
    Retire(Box<dyn Send>),
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

impl Preparer {
    pub(crate) fn start(dir: PathBuf, size: u64, interval: u32) -> std::io::Result<Preparer> {
        let (req_tx, req_rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_dir = dir.clone();
        let handle = std::thread::Builder::new()
            .name("pt-journal-prep".into())
            .spawn(move || {
                for job in req_rx {
                    match job {
                        Job::Prepare(number) => {
                            if ready_tx
                                .send(prepare(&thread_dir, number, size, interval))
                                .is_err()
                            {
                                return;
                            }
                        }
                        Job::Retire(finished) => drop(finished),
                    }
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

    /// Hands a finished segment's resources to the helper thread to release.
    pub(crate) fn retire(&mut self, finished: Box<dyn Send>) {
        if let Some(tx) = &self.requests {
            // If the thread is gone, the resources drop here instead.
            let _ = tx.send(Job::Retire(finished));
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
            let _ = std::fs::remove_file(segment_path(&self.dir, number));
            let _ = std::fs::remove_file(index_path(&self.dir, number));
        }
    }
}
