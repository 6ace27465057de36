//! The ingest over a real journal into a real SQLite file: one pass, or
//! interrupted and resumed by a new process's worth of state, gives the same
//! rows, once each.

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

fn ingest(data: &Path, db: &Path) -> Ingest {
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

/// Every table's rows as text, in key order (times of writing left out).
fn dump(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut out = Vec::new();
    for (table, order) in [
        ("order_events", "seq"),
        ("fills", "seq"),
        ("orders", "id"),
        ("positions", "mode, instrument"),
        ("ingest", "journal"),
    ] {
        let mut st = c
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .unwrap();
        let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
        let rows = st
            .query_map([], |r| {
                let mut line = format!("{table}:");
                for (i, name) in names.iter().enumerate() {
                    if name == "updated_ns" && table == "ingest" {
                        continue;
                    }
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push_str(&format!(" {name}={v:?}"));
                }
                Ok(line)
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn an_interrupted_ingest_resumes_to_the_same_rows_once_each() {
    let dir = TestDir::new("control-ingest-resume");
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

    // One pass.
    let whole = dir.join("whole.db");
    let read = ingest(&data, &whole).drain().unwrap();
    assert_eq!(read, written);

    // Two transactions, then the process "dies"; a new one resumes; then a
    // third reads it all again and must add nothing.
    let parts = dir.join("parts.db");
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
}

#[test]
fn the_schema_is_versioned_and_a_newer_store_is_refused() {
    let dir = TestDir::new("control-schema");
    std::fs::create_dir_all(&*dir).unwrap();
    let db = dir.join("pt.db");
    let s = Store::open(&db, &tickers()).unwrap();
    let v = s.version().unwrap();
    assert_eq!(v, pt_control::schema::MIGRATIONS.last().unwrap().0);
    drop(s);
    // Opening again applies nothing twice.
    let s = Store::open(&db, &tickers()).unwrap();
    assert_eq!(s.version().unwrap(), v);
    drop(s);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations (version, applied_ns) VALUES (?1, 0)",
            [v + 1],
        )
        .unwrap();
    let err = Store::open(&db, &tickers()).unwrap_err().to_string();
    assert!(
        err.contains("newer") && err.contains(&(v + 1).to_string()),
        "{err}"
    );
}
