//! The ingest over a real journal into a real SQLite file and a real
//! PostgreSQL database: one pass, or interrupted and resumed by a new
//! process's worth of state, gives the same rows, once each, and both
//! databases hold exactly the same rows.

use pt_control::db::{Conn, Location, fresh_postgres};
use pt_control::fold::{Fold, FoldConfig};
use pt_control::ingest::{BATCH, Ingest};
use pt_control::store::Store;
use pt_engine::instrument::Registry;
use pt_gateway::Markets;
use pt_tests::TestDir;
use std::path::Path;

const MARKETS: u32 = 8;

fn tickers() -> Vec<String> {
    (0..MARKETS)
        .map(|i| format!("PTSIM-26DEC31-M{i:03}"))
        .collect()
}

fn registry() -> Registry {
    let mut text = String::from("[[venue]]\nname = \"kalshi\"\n");
    for t in tickers() {
        text.push_str(&format!(
            "\n[[instrument]]\nsymbol = \"{t}\"\nvenue = \"kalshi\"\nkind = \"binary\"\nqty_step = \"1\"\nprice_ranges = [{{ start = \"0.01\", end = \"0.99\", step = \"0.01\" }}]\n"
        ));
    }
    Registry::from_toml(&text, "test").unwrap()
}

fn ingest(data: &Path, db: &Location) -> Ingest {
    let reg = registry();
    let markets = Markets::new(&reg, |_| {
        pt_engine::contract::FeeModel::kalshi(
            pt_engine::contract::FeeType::Quadratic,
            pt_engine::model::Price::ONE,
        )
    });
    let fold = Fold::new(
        &reg,
        markets,
        2,
        FoldConfig {
            sample_ns: 0,
            pnl_every_ns: 0,
        },
    )
    .unwrap();
    Ingest::new(data, Store::open(db, &tickers()).unwrap(), fold).unwrap()
}

fn conn(db: &Location) -> Store {
    Store::open(db, &tickers()).unwrap()
}

/// Every table's rows as text, in key order (times of writing left out).
fn dump(db: &Location) -> Vec<String> {
    let mut store = conn(db);
    let c: &mut Conn = store.conn();
    let mut out = Vec::new();
    for (table, columns, order) in [
        ("order_events", "*", "seq"),
        ("fills", "*", "seq"),
        ("orders", "*", "id"),
        ("positions", "*", "mode, instrument"),
        ("ingest", "journal, next_seq", "journal"),
    ] {
        for row in c
            .query(
                &format!("SELECT {columns} FROM {table} ORDER BY {order}"),
                &[],
            )
            .unwrap()
        {
            out.push(format!("{table}: {:?}", row.0));
        }
    }
    out
}

fn count(db: &Location, sql: &str) -> i64 {
    conn(db)
        .conn()
        .query_one(sql, &[])
        .unwrap()
        .unwrap()
        .int(0)
        .unwrap()
}

fn sqlite(dir: &Path) -> impl Fn(&str) -> Location {
    let dir = dir.to_owned();
    move |name| Location::Sqlite(dir.join(format!("{name}.db")))
}

/// Fresh databases on the test server, or `None` when there is none.
fn postgres(test: &str) -> Option<impl Fn(&str) -> Location> {
    let url = pt_tests::postgres::server(test)?;
    let test = test.to_owned();
    Some(move |name: &str| {
        fresh_postgres(
            &url,
            Some(pt_tests::postgres::PASSWORD),
            &pt_tests::postgres::database_name(&format!("{test}_{name}")),
        )
        .unwrap()
    })
}

/// The journal the resume tests ingest; the number of records in it.
fn journal(dir: &Path) -> u64 {
    let data = dir.join("data");
    let written = pt_control::synth::orders_journal(
        &data.join("orders"),
        50_000,
        MARKETS,
        1_000_000_000,
        |_| {},
    )
    .unwrap();
    assert!(written >= 50_000);
    written
}

#[test]
fn an_interrupted_ingest_resumes_to_the_same_rows_once_each_in_sqlite() {
    let dir = TestDir::new("control-ingest-resume");
    let written = journal(&dir);
    resumes(&dir, written, sqlite(&dir));
}

#[test]
fn an_interrupted_ingest_resumes_to_the_same_rows_once_each_in_postgres() {
    let Some(pg) = postgres("resume") else { return };
    let dir = TestDir::new("control-ingest-resume-pg");
    let written = journal(&dir);
    let whole = resumes(&dir, written, pg);
    // The same rows as SQLite's, to the value.
    let lite = sqlite(&dir)("lite");
    assert_eq!(ingest(&dir.join("data"), &lite).drain().unwrap(), written);
    assert_eq!(dump(&whole), dump(&lite));
}

/// Ingests `dir`'s journal whole and in parts into stores `db` makes, and
/// checks them; returns the whole one.
fn resumes(dir: &Path, written: u64, db: impl Fn(&str) -> Location) -> Location {
    let data = dir.join("data");
    // One pass.
    let whole = db("whole");
    let read = ingest(&data, &whole).drain().unwrap();
    assert_eq!(read, written);

    // Two transactions, then the process "dies"; a new one resumes; then a
    // third reads it all again and must add nothing.
    let parts = db("parts");
    let mut first = ingest(&data, &parts);
    assert_eq!(first.poll().unwrap(), BATCH);
    assert_eq!(first.poll().unwrap(), BATCH);
    drop(first);
    assert_eq!(
        count(
            &parts,
            "SELECT next_seq FROM ingest WHERE journal = 'orders'"
        ),
        2 * BATCH as i64
    );
    assert_eq!(
        ingest(&data, &parts).drain().unwrap(),
        written,
        "the new one reads from the start"
    );
    assert_eq!(ingest(&data, &parts).drain().unwrap(), written);
    assert_eq!(dump(&whole), dump(&parts));

    // What the rows say.
    assert_eq!(
        count(&whole, "SELECT COUNT(*) FROM order_events"),
        written as i64
    );
    let fills = count(
        &whole,
        "SELECT COUNT(*) FROM order_events WHERE kind = 'fill'",
    );
    assert!(fills > 0);
    assert_eq!(count(&whole, "SELECT COUNT(*) FROM fills"), fills);
    assert_eq!(
        count(&whole, "SELECT COUNT(DISTINCT trade_id) FROM fills"),
        fills
    );
    assert_eq!(
        count(&whole, "SELECT COUNT(*) FROM orders WHERE state = 'filled'") * 2,
        fills,
        "each filled order filled in two parts"
    );
    assert_eq!(
        count(
            &whole,
            "SELECT COUNT(*) FROM orders WHERE state = 'rejected'"
        ),
        count(
            &whole,
            "SELECT COUNT(*) FROM order_events WHERE kind = 'reject'"
        )
    );
    assert_eq!(
        count(
            &whole,
            "SELECT COUNT(*) FROM orders WHERE state NOT IN ('filled', 'cancelled', 'rejected')"
        ),
        0,
        "every order ended: {:?}",
        dump(&whole)
            .iter()
            .filter(|l| l.starts_with("orders:")
                && !l.contains("filled")
                && !l.contains("cancelled")
                && !l.contains("rejected"))
            .take(3)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        count(
            &whole,
            "SELECT COUNT(*) FROM orders WHERE venue_order_id IS NULL AND state != 'rejected'"
        ),
        0,
        "acked orders keep their venue id"
    );
    let wrong = count(
        &whole,
        "SELECT COUNT(*) FROM positions p WHERE p.qty != (SELECT COALESCE(SUM(CASE f.side WHEN 'buy' THEN f.qty ELSE -f.qty END), 0) FROM fills f WHERE f.mode = p.mode AND f.instrument = p.instrument)",
    );
    assert_eq!(wrong, 0, "positions are the sums of the fills");
    whole
}

#[test]
fn the_schema_is_versioned_and_a_newer_store_is_refused_in_sqlite() {
    let dir = TestDir::new("control-schema");
    std::fs::create_dir_all(&*dir).unwrap();
    versioned(&sqlite(&dir)("pt"));
}

#[test]
fn the_schema_is_versioned_and_a_newer_store_is_refused_in_postgres() {
    let Some(pg) = postgres("schema") else { return };
    versioned(&pg("pt"));
}

fn versioned(db: &Location) {
    let mut s = conn(db);
    let v = s.version().unwrap();
    assert_eq!(v, pt_control::schema::MIGRATIONS.last().unwrap().0);
    drop(s);
    // Opening again applies nothing twice.
    let mut s = conn(db);
    assert_eq!(s.version().unwrap(), v);
    s.conn()
        .execute(
            "INSERT INTO schema_migrations (version, applied_ns) VALUES (?1, 0)",
            &[(v + 1).into()],
        )
        .unwrap();
    drop(s);
    let err = Store::open(db, &tickers()).unwrap_err().to_string();
    assert!(
        err.contains("newer") && err.contains(&(v + 1).to_string()),
        "{err}"
    );
}
