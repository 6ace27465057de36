//! The store: a SQLite file in the data directory (WAL mode) or a
//! PostgreSQL database, written by the ingest in batched transactions and
//! read by the HTTP API and the gRPC service.

use crate::db::{Conn, DbError, Location, Pg, Val, postgres_ddl};
use crate::rows::{Change, Source};
use crate::schema::MIGRATIONS;
use crate::write;
use anyhow::Context as _;
use std::path::Path;

/// The store's file name in the data directory.
pub const DB_FILE: &str = "pt.db";

/// A connection to the store.
#[derive(Debug)]
pub struct Store {
    conn: Conn,
    location: Location,
    tickers: Vec<String>,
    /// SQLite's insert statement per table.
    inserts: [String; 7],
    /// Postgres's column types per table, for binary COPY.
    types: Vec<Vec<postgres::types::Type>>,
}

/// Opens a SQLite file with the settings every connection uses.
fn sqlite(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    let conn =
        rusqlite::Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

fn connect(location: &Location) -> anyhow::Result<Conn> {
    Ok(match location {
        Location::Sqlite(path) => Conn::Sqlite(sqlite(path)?),
        Location::Postgres { url, password_env } => {
            Conn::Postgres(Box::new(Pg::connect(url, password_env.as_deref())?))
        }
    })
}

/// Runs a migration's SQL (written for SQLite) as one script.
fn script(conn: &mut Conn, sql: &str) -> Result<(), DbError> {
    match conn {
        Conn::Sqlite(_) => conn.script(sql),
        Conn::Postgres(_) => conn.script(&postgres_ddl(sql)),
    }
}

/// Applies the migrations `conn` has not had, each in its transaction;
/// returns the version it is at.
fn migrate(conn: &mut Conn) -> anyhow::Result<i64> {
    script(
        conn,
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL)",
    )?;
    let have = conn
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .map_or(Ok(0), |r| r.int(0))?;
    let newest = MIGRATIONS.last().map_or(0, |m| m.0);
    if have > newest {
        anyhow::bail!(
            "the store is at schema version {have}, newer than this build knows ({newest}): run a newer pt"
        );
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > have) {
        let record = format!(
            "BEGIN;\n{sql};\nINSERT INTO schema_migrations (version, applied_ns) VALUES ({version}, {});\nCOMMIT;",
            now_ns()
        );
        script(conn, &record).with_context(|| format!("schema migration {version}"))?;
    }
    Ok(newest)
}

/// Wall-clock nanoseconds.
pub fn now_ns() -> i64 {
    pt_engine::model::Nanos::now().0
}

impl Store {
    /// Opens (creating and migrating) the store at `location`; `tickers`
    /// name the instrument ids in the rows.
    pub fn open(location: &Location, tickers: &[String]) -> anyhow::Result<Store> {
        let mut conn = connect(location)?;
        migrate(&mut conn)?;
        let mut types = Vec::new();
        if let Conn::Postgres(pg) = &mut conn {
            types = pg.client(|c| {
                // The journals are the record: a commit lost to a server
                // crash is read again from them (the position moves in the
                // same transaction), so the store need not wait for the
                // server's disk on each batch.
                c.batch_execute("SET synchronous_commit = off")?;
                write::postgres_staging(c)?;
                write::postgres_types(c)
            })?;
        }
        Ok(Store {
            conn,
            location: location.clone(),
            tickers: tickers.to_vec(),
            inserts: write::TABLES.map(write::sqlite_insert),
            types,
        })
    }

    /// A SQLite store at `path` (a shorthand for tests and tools).
    pub fn open_file(path: &Path, tickers: &[String]) -> anyhow::Result<Store> {
        Store::open(&Location::Sqlite(path.to_owned()), tickers)
    }

    /// Where the store is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// A second connection to the same store that only reads (for the API).
    pub fn reader(&self) -> anyhow::Result<Conn> {
        match &self.location {
            Location::Sqlite(path) => {
                let conn = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .with_context(|| format!("opening {} to read", path.display()))?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                Ok(Conn::Sqlite(conn))
            }
            Location::Postgres { .. } => {
                let mut conn = connect(&self.location)?;
                conn.execute("SET default_transaction_read_only = on", &[])?;
                Ok(conn)
            }
        }
    }

    /// The schema version.
    pub fn version(&mut self) -> anyhow::Result<i64> {
        let row = self
            .conn
            .query_one("SELECT MAX(version) FROM schema_migrations", &[])?;
        Ok(row.map_or(Ok(0), |r| r.int(0))?)
    }

    /// The next sequence number of `source` the store does not have.
    pub fn next_seq(&mut self, source: Source) -> anyhow::Result<u64> {
        let row = self.conn.query_one(
            "SELECT next_seq FROM ingest WHERE journal = ?1",
            &[source.name().into()],
        )?;
        Ok(row.map_or(Ok(0), |r| r.int(0))? as u64)
    }

    /// Writes `changes` and the journals' new positions in one transaction.
    pub fn write(&mut self, changes: &[Change], positions: &[(Source, u64)]) -> anyhow::Result<()> {
        const POSITION: &str = "INSERT INTO ingest (journal, next_seq, updated_ns)
            VALUES (?1, ?2, ?3) ON CONFLICT (journal) DO UPDATE SET
            next_seq = excluded.next_seq, updated_ns = excluded.updated_ns";
        let now = now_ns();
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let tx = c.transaction()?;
                write::sqlite(&tx, &self.inserts, &self.tickers, changes)?;
                for (source, next) in positions {
                    tx.prepare_cached(POSITION)?.execute(rusqlite::params![
                        source.name(),
                        *next as i64,
                        now
                    ])?;
                }
                tx.commit()?;
            }
            Conn::Postgres(pg) => {
                let (types, tickers) = (&self.types, &self.tickers);
                let position = crate::db::dollar_params(POSITION);
                pg.client(|c| {
                    let mut tx = c.transaction()?;
                    write::postgres(&mut tx, types, tickers, changes)?;
                    for (source, next) in positions {
                        tx.execute(&position, &[&source.name(), &(*next as i64), &now])?;
                    }
                    Ok(tx.commit()?)
                })?;
            }
        }
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
            &[
                now_ns().into(),
                digest.as_str().into(),
                path.into(),
                text.into(),
            ],
        )?;
        self.one_int(
            "SELECT version FROM config_versions WHERE sha256 = ?1",
            &[digest.as_str().into()],
        )
    }

    fn one_int(&mut self, sql: &str, params: &[Val<'_>]) -> anyhow::Result<i64> {
        let row = self
            .conn
            .query_one(sql, params)?
            .with_context(|| format!("no row from {sql}"))?;
        Ok(row.int(0)?)
    }

    /// A started engine process; returns the run's id.
    pub fn run_started(&mut self, pid: u32) -> anyhow::Result<i64> {
        self.one_int(
            "INSERT INTO engine_runs (started_ns, pid) VALUES (?1, ?2) RETURNING id",
            &[now_ns().into(), i64::from(pid).into()],
        )
    }

    /// How a run ended.
    pub fn run_ended(&mut self, id: i64, exit: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE engine_runs SET ended_ns = ?1, exit = ?2 WHERE id = ?3",
            &[now_ns().into(), exit.into(), id.into()],
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
        self.one_int(
            "INSERT INTO audit (ts_ns, who, action, detail, result)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            &[
                now_ns().into(),
                who.into(),
                action.into(),
                detail.into(),
                result.into(),
            ],
        )
    }

    /// Sets what came of audit row `id`.
    pub fn audit_result(&mut self, id: i64, result: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE audit SET result = ?1 WHERE id = ?2",
            &[result.into(), id.into()],
        )?;
        Ok(())
    }

    /// The connection, for checks.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }
}
