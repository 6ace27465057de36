//! The ingest: tails the engine's `orders/` and `md/` journals (read-only)
//! into the store.
//!
//! It reads each journal from its first record through the [`Fold`], and
//! writes the rows of records at or past the store's position for that
//! journal, moving the position in the same transaction. A restart after a
//! crash (of the engine, or of this process) therefore neither loses nor
//! duplicates a row, and the fold's books, orders and ledgers are rebuilt
//! exactly as they were.

use crate::fold::{Change, Fold, FoldStats, Source};
use crate::store::{Store, now_ns};
use hdrhistogram::Histogram;
use pt_engine::model::Event;
use pt_engine::model::journal_kind::event_kind;
use pt_journal::{StartAt, Tailer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Records taken from one journal per transaction at most.
pub const BATCH: usize = 8192;

struct Input {
    source: Source,
    dir: PathBuf,
    tailer: Option<Tailer>,
    /// The first sequence number the store does not have.
    stored: u64,
    /// The next sequence number to read.
    next: u64,
}

/// What the ingest has done, for health and metrics.
#[derive(Clone, Debug)]
pub struct IngestStatus {
    /// Next sequence number to store, per journal (orders, md).
    pub orders_next: u64,
    pub md_next: u64,
    /// Whether the last poll reached the end of both journals.
    pub caught_up: bool,
    /// Transactions committed and rows written.
    pub commits: u64,
    pub rows: u64,
    /// Records that were not valid engine events.
    pub bad_records: u64,
    /// The journal time of the newest record stored.
    pub newest_ns: i64,
    /// Commit time less journal time of each stored `orders` record (ns).
    pub lag: Histogram<u64>,
    /// The fold's counts.
    pub fold: FoldStats,
}

impl IngestStatus {
    /// How long ago (ns, at `now`) engine `pid` wrote the newest heartbeat
    /// the store has read; `None` when that heartbeat is not its own (one
    /// still stopping after an earlier supervisor died writes them too).
    pub fn heartbeat_age(&self, pid: Option<u32>, now: i64) -> Option<i64> {
        (self.fold.last_heartbeat_ns > 0 && Some(self.fold.last_heartbeat_pid) == pid)
            .then(|| now.saturating_sub(self.fold.last_heartbeat_ns))
    }

    /// How far (ns, at `now`) the store is behind the journals: 0 when the
    /// last poll reached their end.
    pub fn journal_lag(&self, now: i64) -> i64 {
        if self.caught_up {
            0
        } else {
            now.saturating_sub(self.newest_ns)
        }
    }
}

/// The ingest of one data directory into one store.
pub struct Ingest {
    fold: Fold,
    store: Store,
    inputs: [Input; 2],
    changes: Vec<Change>,
    scratch: Vec<Change>,
    orders_times: Vec<i64>,
    commits: u64,
    rows: u64,
    bad_records: u64,
    newest_ns: i64,
    caught_up: bool,
    lag: Histogram<u64>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("store", &self.store.path())
            .field("commits", &self.commits)
            .finish_non_exhaustive()
    }
}

impl Ingest {
    /// An ingest of the journals in `data_dir` into `store`, through `fold`.
    pub fn new(data_dir: &Path, store: Store, fold: Fold) -> anyhow::Result<Ingest> {
        let input = |source: Source| -> anyhow::Result<Input> {
            Ok(Input {
                source,
                dir: data_dir.join(source.name()),
                tailer: None,
                stored: store.next_seq(source)?,
                next: 0,
            })
        };
        let inputs = [input(Source::Orders)?, input(Source::Md)?];
        Ok(Ingest {
            fold,
            store,
            inputs,
            changes: Vec::with_capacity(4 * BATCH),
            scratch: Vec::with_capacity(8),
            orders_times: Vec::with_capacity(BATCH),
            commits: 0,
            rows: 0,
            bad_records: 0,
            newest_ns: 0,
            caught_up: false,
            lag: Histogram::new_with_bounds(1_000, 600_000_000_000, 3).expect("valid bounds"),
        })
    }

    /// Reads up to [`BATCH`] records of each journal and stores them in one
    /// transaction; returns how many records it read (0: caught up).
    pub fn poll(&mut self) -> anyhow::Result<usize> {
        let mut read = 0;
        let mut full = false;
        for k in 0..self.inputs.len() {
            let n = self.read(k)?;
            full |= n == BATCH;
            read += n;
        }
        let moved = self.inputs.iter().any(|i| i.next > i.stored);
        if moved {
            let positions: Vec<(Source, u64)> = self
                .inputs
                .iter()
                .filter(|i| i.next > i.stored)
                .map(|i| (i.source, i.next))
                .collect();
            compact(&mut self.changes);
            self.store.write(&self.changes, &positions)?;
            let now = now_ns();
            for t in self.orders_times.drain(..) {
                let _ = self.lag.record(now.saturating_sub(t).max(1_000) as u64);
            }
            self.commits += 1;
            self.rows += self.changes.len() as u64;
            self.changes.clear();
            for i in &mut self.inputs {
                i.stored = i.stored.max(i.next);
            }
        }
        self.caught_up = !full;
        Ok(read)
    }

    /// Polls until both journals are read to their end.
    pub fn drain(&mut self) -> anyhow::Result<u64> {
        let mut total = 0;
        loop {
            let n = self.poll()?;
            total += n as u64;
            if n < BATCH {
                return Ok(total);
            }
        }
    }

    fn read(&mut self, k: usize) -> anyhow::Result<usize> {
        let input = &mut self.inputs[k];
        if input.tailer.is_none() {
            if !has_segments(&input.dir) {
                return Ok(0);
            }
            match Tailer::open(&input.dir, StartAt::Beginning) {
                Ok(t) => input.tailer = Some(t),
                Err(_) => return Ok(0),
            }
        }
        let source = input.source;
        let tailer = input.tailer.as_mut().expect("opened above");
        let mut n = 0;
        while n < BATCH {
            let Some(r) = tailer.next()? else { break };
            n += 1;
            input.next = r.seq + 1;
            let store = r.seq >= input.stored;
            if event_kind(r.kind).is_none() {
                self.fold.foreign();
                continue;
            }
            let Ok(e) = Event::from_bytes(r.payload) else {
                self.bad_records += 1;
                continue;
            };
            self.fold
                .record(source, r.seq, r.timestamp, &e, &mut self.scratch);
            if store {
                self.newest_ns = self.newest_ns.max(r.timestamp);
                if source == Source::Orders {
                    self.orders_times.push(r.timestamp);
                }
                self.changes.append(&mut self.scratch);
            } else {
                self.scratch.clear();
            }
        }
        Ok(n)
    }

    /// What the ingest has done so far.
    pub fn status(&self) -> IngestStatus {
        IngestStatus {
            orders_next: self.inputs[0].stored,
            md_next: self.inputs[1].stored,
            caught_up: self.caught_up,
            commits: self.commits,
            rows: self.rows,
            bad_records: self.bad_records,
            newest_ns: self.newest_ns,
            lag: self.lag.clone(),
            fold: self.fold.stats().clone(),
        }
    }

    /// The fold (its ledgers, for checks).
    pub fn fold(&self) -> &Fold {
        &self.fold
    }

    /// The store.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

/// Keeps only the last change of each order and each position in a batch
/// (one transaction: nobody sees the ones in between), the order's venue id
/// carried forward from its ack.
fn compact(changes: &mut Vec<Change>) {
    let mut orders: HashMap<u64, usize> = HashMap::new();
    let mut positions: HashMap<(&'static str, u32), usize> = HashMap::new();
    let mut keep = vec![true; changes.len()];
    for i in 0..changes.len() {
        let earlier = match &changes[i] {
            Change::Order(o) => orders.insert(o.id, i),
            Change::Position(p) => positions.insert((p.mode, p.instrument), i),
            _ => None,
        };
        if let Some(j) = earlier {
            keep[j] = false;
            if let (Change::Order(old), Change::Order(new)) = (&changes[j], &changes[i])
                && new.venue_order_id.is_none()
                && old.venue_order_id.is_some()
            {
                let venue = old.venue_order_id.clone();
                if let Change::Order(new) = &mut changes[i] {
                    new.venue_order_id = venue;
                }
            }
        }
    }
    let mut k = 0;
    changes.retain(|_| {
        k += 1;
        keep[k - 1]
    });
}

fn has_segments(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "seg")))
    })
}
