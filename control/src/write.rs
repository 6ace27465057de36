//! Writing a batch of [`Change`]s: each change as the table rows it makes,
//! then one statement per row in SQLite, or binary `COPY` in Postgres.
//!
//! Rows keyed by a journal sequence number are appended. Orders, positions
//! and markets are replaced by key; in Postgres they are copied into a
//! staging table first and merged in one `INSERT … ON CONFLICT`, the last
//! change of a key in the batch winning.

use crate::db::{DbError, DbResult, Val};
use crate::rows::Change;

/// One of the tables the ingest writes.
#[derive(Debug)]
pub(crate) struct Table {
    /// Its place in [`TABLES`].
    pub index: usize,
    pub name: &'static str,
    pub columns: &'static [&'static str],
    /// For a table replaced by key: the key and what a newer row sets.
    pub upsert: Option<(&'static str, &'static str)>,
}

pub(crate) const ORDER_EVENTS: Table = Table {
    index: 0,
    name: "order_events",
    columns: &[
        "seq",
        "ts_ns",
        "kind",
        "order_id",
        "client_order_id",
        "target",
        "strategy",
        "instrument",
        "ticker",
        "side",
        "price",
        "qty",
        "cum_qty",
        "fee",
        "reject_code",
        "reject_reason",
        "venue_ref",
        "requested_mode",
        "effective_mode",
    ],
    upsert: None,
};

pub(crate) const FILLS: Table = Table {
    index: 1,
    name: "fills",
    columns: &[
        "seq",
        "ts_ns",
        "client_order_id",
        "strategy",
        "instrument",
        "ticker",
        "side",
        "price",
        "qty",
        "fee",
        "liquidity",
        "trade_id",
        "mode",
    ],
    upsert: None,
};

pub(crate) const ORDERS: Table = Table {
    index: 2,
    name: "orders",
    columns: &[
        "id",
        "client_order_id",
        "strategy",
        "instrument",
        "ticker",
        "side",
        "price",
        "qty",
        "cum_qty",
        "fees",
        "state",
        "requested_mode",
        "mode",
        "venue_order_id",
        "created_ns",
        "updated_ns",
        "last_seq",
    ],
    upsert: Some((
        "id",
        "price = excluded.price, qty = excluded.qty, cum_qty = excluded.cum_qty,
         fees = excluded.fees, state = excluded.state,
         requested_mode = excluded.requested_mode, mode = excluded.mode,
         venue_order_id = COALESCE(excluded.venue_order_id, orders.venue_order_id),
         updated_ns = excluded.updated_ns, last_seq = excluded.last_seq",
    )),
};

pub(crate) const POSITIONS: Table = Table {
    index: 3,
    name: "positions",
    columns: &[
        "mode",
        "instrument",
        "ticker",
        "qty",
        "cost_basis",
        "realized",
        "traded",
        "updated_ns",
    ],
    upsert: Some((
        "mode, instrument",
        "qty = excluded.qty, cost_basis = excluded.cost_basis,
         realized = excluded.realized, traded = excluded.traded,
         updated_ns = excluded.updated_ns",
    )),
};

pub(crate) const MARKET_SNAPSHOTS: Table = Table {
    index: 4,
    name: "market_snapshots",
    columns: &[
        "seq",
        "ts_ns",
        "instrument",
        "ticker",
        "bid",
        "bid_qty",
        "ask",
        "ask_qty",
        "stale",
    ],
    upsert: None,
};

pub(crate) const MARKETS: Table = Table {
    index: 5,
    name: "markets",
    columns: &[
        "instrument",
        "ticker",
        "bid",
        "bid_qty",
        "ask",
        "ask_qty",
        "stale",
        "updated_ns",
    ],
    upsert: Some((
        "instrument",
        "bid = excluded.bid, bid_qty = excluded.bid_qty, ask = excluded.ask,
         ask_qty = excluded.ask_qty, stale = excluded.stale, updated_ns = excluded.updated_ns",
    )),
};

pub(crate) const PNL_SNAPSHOTS: Table = Table {
    index: 6,
    name: "pnl_snapshots",
    columns: &[
        "seq",
        "mode",
        "ts_ns",
        "realized",
        "unrealized",
        "fees",
        "cash",
        "total",
    ],
    upsert: None,
};

/// Every table the ingest writes, in the order a batch writes them.
pub(crate) const TABLES: [&Table; 7] = [
    &ORDER_EVENTS,
    &FILLS,
    &ORDERS,
    &POSITIONS,
    &MARKET_SNAPSHOTS,
    &MARKETS,
    &PNL_SNAPSHOTS,
];

fn ticker(tickers: &[String], instrument: u32) -> Val<'_> {
    tickers
        .get(instrument as usize)
        .map_or(Val::Null, |t| Val::from(t.as_str()))
}

fn seq(s: u64) -> Val<'static> {
    // Journal sequence numbers stay far below 2^63.
    Val::Int(s as i64)
}

/// The rows `c` makes, handed to `emit` with their table.
pub(crate) fn rows<'a>(
    c: &'a Change,
    tickers: &'a [String],
    emit: &mut impl FnMut(&'static Table, &[Val<'a>]) -> DbResult<()>,
) -> DbResult<()> {
    let int = |v: u32| Val::Int(i64::from(v));
    match c {
        Change::OrderEvent(e) => emit(
            &ORDER_EVENTS,
            &[
                seq(e.seq),
                Val::Int(e.ts_ns),
                e.kind.into(),
                seq(e.order_id),
                e.client_order_id.as_str().into(),
                e.target.as_deref().into(),
                int(e.strategy.into()),
                int(e.instrument),
                ticker(tickers, e.instrument),
                e.side.into(),
                Val::Int(e.price),
                Val::Int(e.qty),
                Val::Int(e.cum_qty),
                Val::Int(e.fee),
                int(e.reject_code.into()),
                e.reject_reason.into(),
                e.venue_ref.as_deref().into(),
                e.requested_mode.into(),
                e.effective_mode.into(),
            ],
        ),
        Change::Fill(f) => emit(
            &FILLS,
            &[
                seq(f.seq),
                Val::Int(f.ts_ns),
                f.client_order_id.as_str().into(),
                int(f.strategy.into()),
                int(f.instrument),
                ticker(tickers, f.instrument),
                f.side.into(),
                Val::Int(f.price),
                Val::Int(f.qty),
                Val::Int(f.fee),
                f.liquidity.into(),
                f.trade_id.as_deref().into(),
                f.mode.into(),
            ],
        ),
        Change::Order(o) => emit(
            &ORDERS,
            &[
                seq(o.id),
                o.client_order_id.as_str().into(),
                int(o.strategy.into()),
                int(o.instrument),
                ticker(tickers, o.instrument),
                o.side.into(),
                Val::Int(o.price),
                Val::Int(o.qty),
                Val::Int(o.cum_qty),
                Val::Int(o.fees),
                o.state.into(),
                o.requested_mode.into(),
                o.mode.into(),
                o.venue_order_id.as_deref().into(),
                Val::Int(o.ts_ns),
                Val::Int(o.ts_ns),
                seq(o.seq),
            ],
        ),
        Change::Position(p) => emit(
            &POSITIONS,
            &[
                p.mode.into(),
                int(p.instrument),
                ticker(tickers, p.instrument),
                Val::Int(p.qty),
                Val::Int(p.cost_basis),
                Val::Int(p.realized),
                Val::Int(p.traded),
                Val::Int(p.ts_ns),
            ],
        ),
        Change::Market(m) => {
            let side = |s: Option<(i64, i64)>| {
                (
                    s.map_or(Val::Null, |x| Val::Int(x.0)),
                    s.map_or(Val::Null, |x| Val::Int(x.1)),
                )
            };
            let ((bid, bid_qty), (ask, ask_qty)) = (side(m.bid), side(m.ask));
            let stale = Val::Int(m.stale.into());
            let t = ticker(tickers, m.instrument);
            emit(
                &MARKET_SNAPSHOTS,
                &[
                    seq(m.seq),
                    Val::Int(m.ts_ns),
                    int(m.instrument),
                    t.clone(),
                    bid.clone(),
                    bid_qty.clone(),
                    ask.clone(),
                    ask_qty.clone(),
                    stale.clone(),
                ],
            )?;
            emit(
                &MARKETS,
                &[
                    int(m.instrument),
                    t,
                    bid,
                    bid_qty,
                    ask,
                    ask_qty,
                    stale,
                    Val::Int(m.ts_ns),
                ],
            )
        }
        Change::Pnl(p) => emit(
            &PNL_SNAPSHOTS,
            &[
                seq(p.seq),
                p.mode.into(),
                Val::Int(p.ts_ns),
                Val::Int(p.realized),
                Val::Int(p.unrealized),
                Val::Int(p.fees),
                Val::Int(p.cash),
                Val::Int(p.total),
            ],
        ),
    }
}

/// The statement SQLite writes a row of `t` with.
pub(crate) fn sqlite_insert(t: &Table) -> String {
    let marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
    let conflict = match t.upsert {
        None => "ON CONFLICT DO NOTHING".to_owned(),
        Some((key, set)) => format!("ON CONFLICT ({key}) DO UPDATE SET {set}"),
    };
    format!(
        "INSERT INTO {} ({}) VALUES ({}) {conflict}",
        t.name,
        t.columns.join(", "),
        marks.join(", ")
    )
}

/// Writes `changes` in SQLite's open transaction `tx`.
pub(crate) fn sqlite(
    tx: &rusqlite::Transaction<'_>,
    inserts: &[String; 7],
    tickers: &[String],
    changes: &[Change],
) -> DbResult<()> {
    for c in changes {
        rows(c, tickers, &mut |t, vals| {
            let i = t.index;
            tx.prepare_cached(&inserts[i])?
                .execute(rusqlite::params_from_iter(vals))?;
            Ok(())
        })?;
    }
    Ok(())
}

/// The staging table of a table replaced by key (Postgres).
fn staging(t: &Table) -> String {
    format!("{}_in", t.name)
}

/// Creates this session's staging tables (Postgres): the table's columns
/// and the row's place in the batch, emptied at each commit.
pub(crate) fn postgres_staging(client: &mut postgres::Client) -> DbResult<()> {
    for t in TABLES.iter().filter(|t| t.upsert.is_some()) {
        client.batch_execute(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS
             SELECT {}, 0::BIGINT AS ord FROM {} WITH NO DATA",
            staging(t),
            t.columns.join(", "),
            t.name
        ))?;
    }
    Ok(())
}

/// The column types of each table (Postgres), for binary `COPY`.
pub(crate) fn postgres_types(
    client: &mut postgres::Client,
) -> DbResult<Vec<Vec<postgres::types::Type>>> {
    TABLES
        .iter()
        .map(|t| {
            let st = client.prepare(&format!(
                "SELECT {} FROM {} LIMIT 0",
                t.columns.join(", "),
                t.name
            ))?;
            let mut types: Vec<_> = st.columns().iter().map(|c| c.type_().clone()).collect();
            if t.upsert.is_some() {
                types.push(postgres::types::Type::INT8);
            }
            Ok(types)
        })
        .collect()
}

/// The binary COPY header: signature, flags, no extension.
fn copy_header(out: &mut Vec<u8>) {
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
}

/// One row of binary COPY data: its values as the columns' `types` say.
fn copy_row(out: &mut Vec<u8>, types: &[postgres::types::Type], row: &[Val<'_>]) -> DbResult<()> {
    use postgres::types::Type;
    if types.len() != row.len() {
        return Err(DbError(format!(
            "a row of {} values for {} columns",
            row.len(),
            types.len()
        )));
    }
    out.extend_from_slice(&(row.len() as i16).to_be_bytes());
    for (v, ty) in row.iter().zip(types) {
        match (v, ty) {
            (Val::Null, _) => out.extend_from_slice(&(-1i32).to_be_bytes()),
            (Val::Int(x), &Type::INT8) => {
                out.extend_from_slice(&8i32.to_be_bytes());
                out.extend_from_slice(&x.to_be_bytes());
            }
            (Val::Int(x), &Type::INT4) => {
                let x =
                    i32::try_from(*x).map_err(|_| DbError(format!("{x} does not fit INTEGER")))?;
                out.extend_from_slice(&4i32.to_be_bytes());
                out.extend_from_slice(&x.to_be_bytes());
            }
            (Val::Text(t), &Type::TEXT | &Type::VARCHAR) => {
                let len = i32::try_from(t.len()).map_err(|_| DbError("text over 2 GiB".into()))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(t.as_bytes());
            }
            (v, ty) => {
                return Err(DbError(format!("{v:?} cannot be written as {ty}")));
            }
        }
    }
    Ok(())
}

/// Writes `changes` in Postgres's open transaction `tx`: one binary `COPY`
/// per table, and a merge from staging for the tables replaced by key.
pub(crate) fn postgres(
    tx: &mut postgres::Transaction<'_>,
    types: &[Vec<postgres::types::Type>],
    tickers: &[String],
    changes: &[Change],
) -> DbResult<()> {
    // Rows grouped by table, in batch order.
    let mut by_table: [Vec<Vec<Val<'_>>>; 7] = Default::default();
    for c in changes {
        rows(c, tickers, &mut |t, vals| {
            let i = t.index;
            let mut row = vals.to_vec();
            if t.upsert.is_some() {
                row.push(Val::Int(by_table[i].len() as i64));
            }
            by_table[i].push(row);
            Ok(())
        })?;
    }
    for (i, t) in TABLES.iter().enumerate() {
        let rows = &by_table[i];
        if rows.is_empty() {
            continue;
        }
        let target = match t.upsert {
            None => t.name.to_owned(),
            Some(_) => staging(t),
        };
        let mut cols: Vec<&str> = t.columns.to_vec();
        if t.upsert.is_some() {
            cols.push("ord");
        }
        let mut data = Vec::with_capacity(64 + rows.len() * 24 * cols.len());
        copy_header(&mut data);
        for row in rows {
            copy_row(&mut data, &types[i], row)?;
        }
        data.extend_from_slice(&(-1i16).to_be_bytes());
        let mut sink = tx.copy_in(&format!(
            "COPY {target} ({}) FROM STDIN (FORMAT binary)",
            cols.join(", ")
        ))?;
        // One write: the whole table's batch goes to the server as one message.
        std::io::Write::write_all(&mut sink, &data)
            .map_err(|e| DbError(format!("COPY into {target}: {e}")))?;
        let n = sink.finish()?;
        if n != rows.len() as u64 {
            return Err(DbError(format!(
                "COPY into {target} took {n} of {} rows",
                rows.len()
            )));
        }
        if let Some((key, set)) = t.upsert {
            let columns = t.columns.join(", ");
            tx.batch_execute(&format!(
                "INSERT INTO {name} ({columns})
                 SELECT DISTINCT ON ({key}) {columns} FROM {stage} ORDER BY {key}, ord DESC
                 ON CONFLICT ({key}) DO UPDATE SET {set};
                 TRUNCATE {stage}",
                name = t.name,
                stage = staging(t),
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_table_knows_its_place() {
        for (i, t) in super::TABLES.iter().enumerate() {
            assert_eq!(t.index, i, "{}", t.name);
        }
    }
}
