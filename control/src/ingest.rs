//! The ingest: tails the engine's `orders/` and `md/` journals (read-only)
//! into the store.
//!
//! It reads each journal from its first record through the [`Fold`], and
//! writes the rows of records at or past the store's position for that
//! journal, moving the position in the same transaction. A restart after a
//! crash (of the engine, or of this process) therefore neither loses nor
//! duplicates a row, and the fold's books, orders and ledgers are rebuilt
//! exactly as they were.
//!
//! The store is written on a thread of its own: while one batch commits,
//! the next is read and folded. A batch's rows count as stored (its
//! positions, its lag) only once its transaction has committed.

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
    /// The first sequence number not yet handed to the writer.
    sent: u64,
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

/// One transaction's worth, handed to the writer thread and back.
#[derive(Default)]
struct Batch {
    changes: Vec<Change>,
    positions: Vec<(Source, u64)>,
    /// Journal times of its `orders` records, for the lag.
    orders_times: Vec<i64>,
}

/// What the writer thread says of a batch: the batch (its buffers reused),
/// whether it committed, and when.
type Done = (Batch, anyhow::Result<()>, i64);

/// The thread that owns the store and commits batches in order.
struct Writer {
    to: Option<std::sync::mpsc::SyncSender<Batch>>,
    from: std::sync::mpsc::Receiver<Done>,
    thread: Option<std::thread::JoinHandle<()>>,
    location: crate::db::Location,
}

impl Writer {
    fn start(mut store: Store) -> anyhow::Result<Writer> {
        let location = store.location().clone();
        let (to, batches) = std::sync::mpsc::sync_channel::<Batch>(1);
        let (done, from) = std::sync::mpsc::channel::<Done>();
        let thread = std::thread::Builder::new()
            .name("pt-store".into())
            .spawn(move || {
                for b in batches {
                    let r = store.write(&b.changes, &b.positions);
                    if done.send((b, r, now_ns())).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Writer {
            to: Some(to),
            from,
            thread: Some(thread),
            location,
        })
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.to = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The ingest of one data directory into one store.
pub struct Ingest {
    fold: Fold,
    writer: Writer,
    /// A batch at the writer, not yet committed.
    in_flight: bool,
    /// A spare batch's buffers.
    spare: Batch,
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
            .field("store", &self.writer.location)
            .field("commits", &self.commits)
            .finish_non_exhaustive()
    }
}

impl Ingest {
    /// An ingest of the journals in `data_dir` into `store`, through `fold`.
    pub fn new(data_dir: &Path, mut store: Store, fold: Fold) -> anyhow::Result<Ingest> {
        let mut input = |source: Source| -> anyhow::Result<Input> {
            Ok(Input {
                source,
                dir: data_dir.join(source.name()),
                tailer: None,
                stored: store.next_seq(source)?,
                sent: 0,
                next: 0,
            })
        };
        let mut inputs = [input(Source::Orders)?, input(Source::Md)?];
        for i in &mut inputs {
            i.sent = i.stored;
        }
        Ok(Ingest {
            fold,
            writer: Writer::start(store)?,
            in_flight: false,
            spare: Batch::default(),
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
    /// transaction; returns how many records it read (0: caught up). When
    /// it read a full batch it returns while that batch commits; otherwise
    /// it returns once everything read is committed.
    pub fn poll(&mut self) -> anyhow::Result<usize> {
        let mut read = 0;
        let mut full = false;
        for k in 0..self.inputs.len() {
            let n = self.read(k)?;
            full |= n == BATCH;
            read += n;
        }
        if self.inputs.iter().any(|i| i.next > i.sent) {
            let mut b = std::mem::take(&mut self.spare);
            b.positions.clear();
            for i in &mut self.inputs {
                if i.next > i.sent {
                    b.positions.push((i.source, i.next));
                    i.sent = i.next;
                }
            }
            compact(&mut self.changes);
            std::mem::swap(&mut b.changes, &mut self.changes);
            std::mem::swap(&mut b.orders_times, &mut self.orders_times);
            // One batch at the writer at a time: the one before must commit.
            self.settle()?;
            self.writer
                .to
                .as_ref()
                .expect("the writer runs while the ingest does")
                .send(b)
                .map_err(|_| anyhow::anyhow!("the store's writer thread stopped"))?;
            self.in_flight = true;
        }
        if !full {
            self.settle()?;
        }
        self.caught_up = !full;
        Ok(read)
    }

    /// Waits for the batch at the writer, if any, and counts it stored.
    fn settle(&mut self) -> anyhow::Result<()> {
        if !self.in_flight {
            return Ok(());
        }
        let (mut b, result, at) = self
            .writer
            .from
            .recv()
            .map_err(|_| anyhow::anyhow!("the store's writer thread stopped"))?;
        self.in_flight = false;
        result?;
        for t in b.orders_times.drain(..) {
            let _ = self.lag.record(at.saturating_sub(t).max(1_000) as u64);
        }
        self.commits += 1;
        self.rows += b.changes.len() as u64;
        for (source, next) in &b.positions {
            for i in &mut self.inputs {
                if i.source == *source {
                    i.stored = i.stored.max(*next);
                }
            }
        }
        b.changes.clear();
        self.spare = b;
        Ok(())
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
