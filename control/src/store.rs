//! The SQLite store: one file in the data directory, in WAL mode, written by
//! the ingest in batched transactions and read by the HTTP API.

use crate::fold::{Change, Source};
use crate::schema::MIGRATIONS;
use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};
use std::path::{Path, PathBuf};

/// The store's file name in the data directory.
pub const DB_FILE: &str = "pt.db";

/// A connection to the store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    tickers: Vec<String>,
}

/// Opens `path` with the settings every connection uses.
fn connect(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// Applies the migrations `conn` has not had; returns the version it is at.
fn migrate(conn: &mut Connection) -> anyhow::Result<i64> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL)",
    )?;
    let have: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let newest = MIGRATIONS.last().map_or(0, |m| m.0);
    if have > newest {
        anyhow::bail!(
            "the store is at schema version {have}, newer than this build knows ({newest}): run a newer pt"
        );
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > have) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("schema migration {version}"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_ns) VALUES (?1, ?2)",
            params![version, now_ns()],
        )?;
        tx.commit()?;
    }
    Ok(newest)
}

/// Wall-clock nanoseconds.
pub fn now_ns() -> i64 {
    pt_engine::model::Nanos::now().0
}

impl Store {
    /// Opens (creating and migrating) the store at `path`; `tickers` name
    /// the instrument ids in the rows.
    pub fn open(path: &Path, tickers: &[String]) -> anyhow::Result<Store> {
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        Ok(Store {
            conn,
            path: path.to_owned(),
            tickers: tickers.to_vec(),
        })
    }

    /// Where the store is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A second, read-only connection to the same file (for the API).
    pub fn reader(&self) -> anyhow::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("opening {} to read", self.path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }

    /// The schema version.
    pub fn version(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })?)
    }

    /// The next sequence number of `source` the store does not have.
    pub fn next_seq(&self, source: Source) -> anyhow::Result<u64> {
        let n: Option<i64> = self
            .conn
            .query_row(
                "SELECT next_seq FROM ingest WHERE journal = ?1",
                [source.name()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(n.unwrap_or(0) as u64)
    }

    /// Writes `changes` and the journals' new positions in one transaction.
    pub fn write(&mut self, changes: &[Change], positions: &[(Source, u64)]) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        apply(&tx, &self.tickers, changes)?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO ingest (journal, next_seq, updated_ns) VALUES (?1, ?2, ?3)
                 ON CONFLICT (journal) DO UPDATE SET next_seq = excluded.next_seq,
                 updated_ns = excluded.updated_ns",
            )?;
            for (source, next) in positions {
                st.execute(params![source.name(), *next as i64, now_ns()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a version of the configuration (once per distinct text);
    /// returns its version number.
    pub fn config_version(&mut self, path: &str, text: &str) -> anyhow::Result<i64> {
        use sha2::Digest as _;
        let digest: String = sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.conn.execute(
            "INSERT INTO config_versions (ts_ns, sha256, path, text) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (sha256) DO NOTHING",
            params![now_ns(), digest, path, text],
        )?;
        Ok(self.conn.query_row(
            "SELECT version FROM config_versions WHERE sha256 = ?1",
            [digest],
            |r| r.get(0),
        )?)
    }

    /// A started engine process; returns the run's id.
    pub fn run_started(&mut self, pid: u32) -> anyhow::Result<i64> {
        self.conn.execute(
            "INSERT INTO engine_runs (started_ns, pid) VALUES (?1, ?2)",
            params![now_ns(), pid],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// How a run ended.
    pub fn run_ended(&mut self, id: i64, exit: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE engine_runs SET ended_ns = ?1, exit = ?2 WHERE id = ?3",
            params![now_ns(), exit, id],
        )?;
        Ok(())
    }

    /// An audit row: who did what, and what came of it; returns its id.
    pub fn audit(
        &mut self,
        who: &str,
        action: &str,
        detail: &str,
        result: &str,
    ) -> anyhow::Result<i64> {
        self.conn.execute(
            "INSERT INTO audit (ts_ns, who, action, detail, result) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ns(), who, action, detail, result],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Sets what came of audit row `id`.
    pub fn audit_result(&self, id: i64, result: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE audit SET result = ?1 WHERE id = ?2",
            params![result, id],
        )?;
        Ok(())
    }

    /// The connection, for checks.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

fn ticker(tickers: &[String], instrument: u32) -> Option<&str> {
    tickers.get(instrument as usize).map(String::as_str)
}

fn apply(tx: &Transaction<'_>, tickers: &[String], changes: &[Change]) -> anyhow::Result<()> {
    for c in changes {
        match c {
            Change::OrderEvent(e) => {
                tx.prepare_cached(
                    "INSERT INTO order_events (seq, ts_ns, kind, order_id, client_order_id, target,
                     strategy, instrument, ticker, side, price, qty, cum_qty, fee, reject_code,
                     reject_reason, venue_ref, requested_mode, effective_mode)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                     ?16, ?17, ?18, ?19) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    e.seq as i64,
                    e.ts_ns,
                    e.kind,
                    e.order_id as i64,
                    e.client_order_id,
                    e.target,
                    e.strategy,
                    e.instrument,
                    ticker(tickers, e.instrument),
                    e.side,
                    e.price,
                    e.qty,
                    e.cum_qty,
                    e.fee,
                    e.reject_code,
                    e.reject_reason,
                    e.venue_ref,
                    e.requested_mode,
                    e.effective_mode
                ])?;
            }
            Change::Fill(f) => {
                tx.prepare_cached(
                    "INSERT INTO fills (seq, ts_ns, client_order_id, strategy, instrument,
                     ticker, side, price, qty, fee, liquidity, trade_id, mode)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    f.seq as i64,
                    f.ts_ns,
                    f.client_order_id,
                    f.strategy,
                    f.instrument,
                    ticker(tickers, f.instrument),
                    f.side,
                    f.price,
                    f.qty,
                    f.fee,
                    f.liquidity,
                    f.trade_id,
                    f.mode
                ])?;
            }
            Change::Order(o) => {
                tx.prepare_cached(
                    "INSERT INTO orders (id, client_order_id, strategy, instrument, ticker, side,
                     price, qty, cum_qty, fees, state, requested_mode, mode, venue_order_id,
                     created_ns, updated_ns, last_seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15,
                     ?16)
                     ON CONFLICT (id) DO UPDATE SET price = excluded.price,
                     qty = excluded.qty, cum_qty = excluded.cum_qty, fees = excluded.fees,
                     state = excluded.state, requested_mode = excluded.requested_mode,
                     mode = excluded.mode,
                     venue_order_id = COALESCE(excluded.venue_order_id, orders.venue_order_id),
                     updated_ns = excluded.updated_ns, last_seq = excluded.last_seq",
                )?
                .execute(params![
                    o.id as i64,
                    o.client_order_id,
                    o.strategy,
                    o.instrument,
                    ticker(tickers, o.instrument),
                    o.side,
                    o.price,
                    o.qty,
                    o.cum_qty,
                    o.fees,
                    o.state,
                    o.requested_mode,
                    o.mode,
                    o.venue_order_id,
                    o.ts_ns,
                    o.seq as i64
                ])?;
            }
            Change::Position(p) => {
                tx.prepare_cached(
                    "INSERT INTO positions (mode, instrument, ticker, qty, cost_basis, realized,
                     traded, updated_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (mode, instrument) DO UPDATE SET qty = excluded.qty,
                     cost_basis = excluded.cost_basis, realized = excluded.realized,
                     traded = excluded.traded, updated_ns = excluded.updated_ns",
                )?
                .execute(params![
                    p.mode,
                    p.instrument,
                    ticker(tickers, p.instrument),
                    p.qty,
                    p.cost_basis,
                    p.realized,
                    p.traded,
                    p.ts_ns
                ])?;
            }
            Change::Market(m) => {
                let t = ticker(tickers, m.instrument);
                let (bid, bid_qty) = (m.bid.map(|x| x.0), m.bid.map(|x| x.1));
                let (ask, ask_qty) = (m.ask.map(|x| x.0), m.ask.map(|x| x.1));
                tx.prepare_cached(
                    "INSERT INTO market_snapshots (seq, ts_ns, instrument, ticker, bid,
                     bid_qty, ask, ask_qty, stale) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    m.seq as i64,
                    m.ts_ns,
                    m.instrument,
                    t,
                    bid,
                    bid_qty,
                    ask,
                    ask_qty,
                    m.stale
                ])?;
                tx.prepare_cached(
                    "INSERT INTO markets (instrument, ticker, bid, bid_qty, ask, ask_qty, stale,
                     updated_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (instrument) DO UPDATE SET bid = excluded.bid,
                     bid_qty = excluded.bid_qty, ask = excluded.ask, ask_qty = excluded.ask_qty,
                     stale = excluded.stale, updated_ns = excluded.updated_ns",
                )?
                .execute(params![
                    m.instrument,
                    t,
                    bid,
                    bid_qty,
                    ask,
                    ask_qty,
                    m.stale,
                    m.ts_ns
                ])?;
            }
            Change::Pnl(p) => {
                tx.prepare_cached(
                    "INSERT INTO pnl_snapshots (seq, mode, ts_ns, realized, unrealized,
                     fees, cash, total) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    p.seq as i64,
                    p.mode,
                    p.ts_ns,
                    p.realized,
                    p.unrealized,
                    p.fees,
                    p.cash,
                    p.total
                ])?;
            }
        }
    }
    Ok(())
}
