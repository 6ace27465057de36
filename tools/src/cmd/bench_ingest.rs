//! `pt bench ingest`: how fast `pt run` stores an `orders` journal in
//! SQLite (and, with `--postgres`, in PostgreSQL), each against the
//! plainest store of the same records in the same database (each record's
//! bytes as a blob, in the same batched transactions) in the same run.

use crate::engine::core::{fees, registry};
use anyhow::Context as _;
use pt_control::db::{Location, Pg, fresh_postgres};
use pt_control::fold::{Fold, FoldConfig};
use pt_control::ingest::{BATCH, Ingest};
use pt_control::store::Store;
use pt_gateway::Markets;
use pt_journal::{StartAt, Tailer};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub(crate) struct IngestArgs {
    /// Records in the synthetic orders journal.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Markets the orders are spread over.
    #[arg(long, default_value_t = 20)]
    markets: u32,
    /// Where to write the journal and the stores (emptied first; a folder
    /// under the system's temporary folder by default).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Also measure PostgreSQL: a server's URL (no password in it; a
    /// database `pt_bench_ingest` is created there, dropping any of that name).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// The environment variable holding the Postgres password, if it needs one.
    #[arg(long, value_name = "VAR", requires = "postgres")]
    password_env: Option<String>,
}

fn fold(tickers: &[String]) -> anyhow::Result<Fold> {
    let reg = registry(tickers)?;
    let markets = Markets::new(&reg, |_| fees());
    Fold::new(
        &reg,
        markets,
        2,
        FoldConfig {
            sample_ns: 1_000_000_000,
            pnl_every_ns: 1_000_000_000,
        },
    )
}

/// The baseline in Postgres: every record's bytes as one row, one binary
/// COPY per batch.
fn pg_blobs(journal: &Path, url: &str, password_env: Option<&str>) -> anyhow::Result<u64> {
    use postgres::types::Type;
    let mut pg = Pg::connect(url, password_env)?;
    let mut t = Tailer::open(journal, StartAt::Beginning)?;
    let n = pg.client(|c| {
        c.batch_execute(
            "CREATE TABLE records (journal TEXT NOT NULL, seq BIGINT NOT NULL, ts_ns BIGINT NOT NULL,
             kind INTEGER NOT NULL, payload BYTEA NOT NULL, PRIMARY KEY (journal, seq))",
        )?;
        let mut n = 0u64;
        loop {
            let mut tx = c.transaction()?;
            let sink = tx.copy_in("COPY records FROM STDIN (FORMAT binary)")?;
            let mut w = postgres::binary_copy::BinaryCopyInWriter::new(
                sink,
                &[Type::TEXT, Type::INT8, Type::INT8, Type::INT4, Type::BYTEA],
            );
            let mut k = 0;
            while k < BATCH {
                let Some(r) = t.next().map_err(|e| pt_control::db::DbError(e.to_string()))? else {
                    break;
                };
                w.write(&[&"orders", &(r.seq as i64), &r.timestamp, &i32::from(r.kind), &r.payload])?;
                k += 1;
            }
            w.finish()?;
            tx.commit()?;
            n += k as u64;
            if k < BATCH {
                return Ok(n);
            }
        }
    })?;
    Ok(n)
}

/// The baseline: every record's bytes as one row, batched as the ingest does.
fn blobs(journal: &Path, db: &Path) -> anyhow::Result<u64> {
    let mut c = rusqlite::Connection::open(db)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.execute_batch(
        "CREATE TABLE records (journal TEXT NOT NULL, seq INTEGER NOT NULL, ts_ns INTEGER NOT NULL,
         kind INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (journal, seq))",
    )?;
    let mut t = Tailer::open(journal, StartAt::Beginning)?;
    let mut n = 0u64;
    loop {
        let tx = c.transaction()?;
        let mut k = 0;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO records (journal, seq, ts_ns, kind, payload) VALUES ('orders', ?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?;
            while k < BATCH {
                let Some(r) = t.next()? else { break };
                st.execute(rusqlite::params![
                    r.seq as i64,
                    r.timestamp,
                    r.kind,
                    r.payload
                ])?;
                k += 1;
            }
        }
        tx.commit()?;
        n += k as u64;
        if k < BATCH {
            return Ok(n);
        }
    }
}

pub(crate) fn run(args: &IngestArgs) -> anyhow::Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("pt-bench-ingest-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let tickers: Vec<String> = (0..args.markets)
        .map(|i| format!("PTSIM-26DEC31-M{i:03}"))
        .collect();

    let t = Instant::now();
    let written = pt_control::synth::orders_journal(
        &data.join("orders"),
        args.records,
        args.markets,
        pt_engine::model::Nanos::now().0,
        |n| eprint!("\rwriting the orders journal: {n} records"),
    )?;
    eprintln!(
        "\rwrote {written} orders records in {:.2} s ({})",
        t.elapsed().as_secs_f64(),
        data.join("orders").display()
    );

    let mut stores = vec![(
        "SQLite (WAL, synchronous=NORMAL)",
        Location::Sqlite(dir.join("pt.db")),
    )];
    if let Some(url) = &args.postgres {
        let pw = args.password_env.as_deref();
        stores.push((
            "PostgreSQL (binary COPY, staged upserts)",
            fresh_postgres(url, pw, "pt_bench_ingest")?,
        ));
    }
    let rate = |n: u64, s: f64| n as f64 / s;
    for (what, location) in &stores {
        let m = measure(&data, location, &tickers, written)?;
        let t = Instant::now();
        let base = match location {
            Location::Sqlite(_) => blobs(&data.join("orders"), &dir.join("blobs.db"))?,
            Location::Postgres { password_env, .. } => {
                let l = fresh_postgres(
                    args.postgres.as_deref().unwrap_or_default(),
                    password_env.as_deref(),
                    "pt_bench_ingest_blobs",
                )?;
                let Location::Postgres { url, .. } = &l else {
                    unreachable!("fresh_postgres gives a Postgres location")
                };
                pg_blobs(&data.join("orders"), url, password_env.as_deref())?
            }
        };
        let baseline = t.elapsed().as_secs_f64();
        println!("ingest of {written} orders records into {what}, {BATCH} records per transaction");
        println!(
            "  pt ingest        {:>12.0} records/s  {:>12.0} rows/s  ({} rows in {:.2} s)",
            rate(m.read, m.secs),
            rate(m.rows, m.secs),
            m.rows,
            m.secs
        );
        println!(
            "  blob baseline    {:>12.0} records/s  (one row per record, {base} rows in {baseline:.2} s)",
            rate(base, baseline)
        );
        println!(
            "  ratio            {:>12.2}x of the baseline's records/s",
            rate(m.read, m.secs) / rate(base, baseline)
        );
        println!(
            "  restart re-read  {:>12.0} records/s  ({} records folded, nothing written, {:.2} s)",
            rate(m.reread, m.resume),
            m.reread,
            m.resume
        );
    }
    println!("  files in {}", dir.display());
    Ok(())
}

/// One store's figures.
struct Measured {
    read: u64,
    rows: u64,
    secs: f64,
    reread: u64,
    resume: f64,
}

/// Ingests the journal in `data` into `location`, then again as a restart
/// would (reading everything, writing nothing).
fn measure(
    data: &Path,
    location: &Location,
    tickers: &[String],
    written: u64,
) -> anyhow::Result<Measured> {
    let mut ingest = Ingest::new(data, Store::open(location, tickers)?, fold(tickers)?)?;
    let t = Instant::now();
    let mut read = 0u64;
    loop {
        let n = ingest.poll()? as u64;
        read += n;
        eprint!("\ringesting into {location}: {read} of {written}");
        if n < BATCH as u64 {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let rows = ingest.status().rows;
    drop(ingest);
    eprintln!();
    let t = Instant::now();
    let mut again = Ingest::new(data, Store::open(location, tickers)?, fold(tickers)?)?;
    let reread = again.drain()?;
    Ok(Measured {
        read,
        rows,
        secs,
        reread,
        resume: t.elapsed().as_secs_f64(),
    })
}
