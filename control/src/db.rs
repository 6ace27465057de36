//! One interface over the store's two databases: SQLite (a file in the data
//! directory, the default) and PostgreSQL (by URL).
//!
//! Statements are written once, in the SQL both accept, with `?N`
//! parameters (rewritten to `$N` for Postgres). Values are integers
//! (fixed-point raw amounts, sequence numbers, nanoseconds) or text, never
//! floats.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// Where the store is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: a URL without a password, and the environment
    /// variable of `pt run` that holds the password, if it needs one.
    Postgres {
        /// `postgres://user@host:port/db`.
        url: String,
        /// The variable with the password.
        password_env: Option<String>,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{} (SQLite)", p.display()),
            Location::Postgres { url, .. } => write!(f, "{url} (PostgreSQL)"),
        }
    }
}

/// Checks a Postgres URL: it parses, names no password (that comes from an
/// environment variable) and reaches this host only (loopback or a unix
/// socket), since the connection is not encrypted.
pub fn check_postgres_url(url: &str) -> Result<(), String> {
    use postgres::config::Host;
    let config: postgres::Config = url
        .parse()
        .map_err(|e| format!("expected a postgres://user@host:port/database URL ({e})"))?;
    if config.get_password().is_some() {
        return Err(
            "the URL holds a password: leave it out and name the variable that holds it in control.database_password_env"
                .into(),
        );
    }
    for host in config.get_hosts() {
        if let Host::Tcp(h) = host {
            let loopback =
                h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback());
            if !loopback {
                return Err(format!(
                    "host {h:?} is not this machine: the store's connection is not encrypted, so it reaches loopback or a unix socket only"
                ));
            }
        }
    }
    if config.get_dbname().is_none() {
        return Err("the URL names no database (postgres://user@host:port/DATABASE)".into());
    }
    Ok(())
}

/// `url` with any password in it hidden, for messages.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = match base.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((host, _)) => format!("{scheme}://{host}"),
            None => base.to_owned(),
        },
        None => base.to_owned(),
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// Creates an empty database `name` on the server of `url` (dropping one of
/// that name first): for tests and benchmarks.
pub fn fresh_postgres(url: &str, password_env: Option<&str>, name: &str) -> DbResult<Location> {
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(DbError(format!(
            "database name {name:?}: expected lowercase letters, digits and _"
        )));
    }
    let mut admin = Conn::Postgres(Box::new(Pg::connect(url, password_env)?));
    admin.script(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    admin.script(&format!("CREATE DATABASE {name}"))?;
    Ok(Location::Postgres {
        url: with_database(url, name),
        password_env: password_env.map(str::to_owned),
    })
}

/// A value bound to a statement or read from a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val<'a> {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (booleans are 0 and 1).
    Int(i64),
    /// Text.
    Text(Cow<'a, str>),
}

impl From<i64> for Val<'_> {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::Text(Cow::Borrowed(v))
    }
}

impl From<String> for Val<'_> {
    fn from(v: String) -> Self {
        Val::Text(Cow::Owned(v))
    }
}

impl<'a, T: Into<Val<'a>>> From<Option<T>> for Val<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// A store error: what the database said.
#[derive(Debug)]
pub struct DbError(pub String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        // The server's own message (and detail) rather than "db error".
        match e.as_db_error() {
            Some(d) => DbError(format!(
                "{}: {}{}",
                d.severity(),
                d.message(),
                d.detail().map(|x| format!(" ({x})")).unwrap_or_default()
            )),
            None => DbError(e.to_string()),
        }
    }
}

/// What the store's calls return.
pub type DbResult<T> = Result<T, DbError>;

/// One result row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row(pub Vec<Val<'static>>);

impl Row {
    fn at(&self, i: usize) -> DbResult<&Val<'static>> {
        self.0
            .get(i)
            .ok_or_else(|| DbError(format!("no column {i} in a row of {}", self.0.len())))
    }

    /// Column `i`, an integer that may be NULL.
    pub fn opt_int(&self, i: usize) -> DbResult<Option<i64>> {
        match self.at(i)? {
            Val::Null => Ok(None),
            Val::Int(v) => Ok(Some(*v)),
            Val::Text(t) => Err(DbError(format!("column {i} is text {t:?}, not an integer"))),
        }
    }

    /// Column `i`, an integer.
    pub fn int(&self, i: usize) -> DbResult<i64> {
        self.opt_int(i)?
            .ok_or_else(|| DbError(format!("column {i} is NULL, not an integer")))
    }

    /// Column `i`, a flag stored as 0 or 1.
    pub fn flag(&self, i: usize) -> DbResult<bool> {
        Ok(self.int(i)? != 0)
    }

    /// Column `i`, text that may be NULL.
    pub fn opt_text(&self, i: usize) -> DbResult<Option<String>> {
        match self.at(i)? {
            Val::Null => Ok(None),
            Val::Text(t) => Ok(Some(t.to_string())),
            Val::Int(v) => Err(DbError(format!("column {i} is the integer {v}, not text"))),
        }
    }

    /// Column `i`, text.
    pub fn text(&self, i: usize) -> DbResult<String> {
        self.opt_text(i)?
            .ok_or_else(|| DbError(format!("column {i} is NULL, not text")))
    }
}

impl rusqlite::ToSql for Val<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(v) => ValueRef::Integer(*v),
            Val::Text(t) => ValueRef::Text(t.as_bytes()),
        }))
    }
}

impl postgres::types::ToSql for Val<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Val::Text(t) => t.as_ref().to_sql(ty, out),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        [
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::BOOL,
            Type::TEXT,
            Type::VARCHAR,
        ]
        .contains(ty)
    }

    postgres::types::to_sql_checked!();
}

/// `?N` parameters as Postgres writes them, `$N`.
pub fn dollar_params(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    for (i, c) in sql.char_indices() {
        if c == '?' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The schema's SQLite text as Postgres writes it: 64-bit integers,
/// identity keys, no `WITHOUT ROWID`.
pub fn postgres_ddl(sqlite: &str) -> String {
    sqlite
        .replace(
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        )
        .replace("INTEGER", "BIGINT")
        .replace(") WITHOUT ROWID", ")")
}

/// A Postgres connection with its prepared statements.
pub struct Pg {
    pub(crate) client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl fmt::Debug for Pg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pg")
            .field("statements", &self.statements.len())
            .finish_non_exhaustive()
    }
}

/// Runs `f`, on a scoped thread of its own when called from inside a tokio
/// runtime (the control server's): the Postgres client drives a runtime of
/// its own, which cannot be entered from another one.
fn outside_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| match s.spawn(f).join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        })
    } else {
        f()
    }
}

impl Pg {
    /// Connects to `url`, with the password from `password_env` when set.
    pub fn connect(url: &str, password_env: Option<&str>) -> DbResult<Pg> {
        let mut config: postgres::Config =
            url.parse().map_err(|e| DbError(format!("{url}: {e}")))?;
        if let Some(var) = password_env {
            let pw = std::env::var(var).map_err(|_| {
                DbError(format!(
                    "control.database_password_env names {var}, which is not set in this environment"
                ))
            })?;
            config.password(pw);
        }
        config.application_name("pt run");
        let client = outside_runtime(|| config.connect(postgres::NoTls))
            .map_err(|e| DbError(format!("connecting to {url}: {}", DbError::from(e))))?;
        Ok(Pg {
            client,
            statements: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let st = self.client.prepare(&dollar_params(sql))?;
        self.statements.insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    fn query(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<Vec<Row>> {
        outside_runtime(|| {
            let st = self.statement(sql)?;
            let rows = self.client.query(&st, &pg_params(params))?;
            rows.iter().map(pg_row).collect()
        })
    }

    fn execute(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<u64> {
        outside_runtime(|| {
            let st = self.statement(sql)?;
            Ok(self.client.execute(&st, &pg_params(params))?)
        })
    }

    /// Runs `f` with the client, off any tokio runtime.
    pub fn client<T: Send>(
        &mut self,
        f: impl FnOnce(&mut postgres::Client) -> DbResult<T> + Send,
    ) -> DbResult<T> {
        outside_runtime(|| f(&mut self.client))
    }
}

/// `params` as the Postgres client takes them.
fn pg_params<'a>(params: &'a [Val<'_>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

fn pg_row(r: &postgres::Row) -> DbResult<Row> {
    use postgres::types::Type;
    let mut out = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let v = match *c.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Val::Int),
            Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map(|v| Val::Int(v.into())),
            Type::INT2 => r.try_get::<_, Option<i16>>(i)?.map(|v| Val::Int(v.into())),
            Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(|v| Val::Int(v.into())),
            Type::TEXT | Type::VARCHAR | Type::NAME => {
                r.try_get::<_, Option<String>>(i)?.map(Val::from)
            }
            ref t => {
                return Err(DbError(format!(
                    "column {} is of type {t}, which the store does not read (cast it to BIGINT or TEXT)",
                    c.name()
                )));
            }
        };
        out.push(v.unwrap_or(Val::Null));
    }
    Ok(Row(out))
}

/// A connection to either database.
#[derive(Debug)]
pub enum Conn {
    /// SQLite.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL.
    Postgres(Box<Pg>),
}

impl Conn {
    /// The rows `sql` gives with `params`.
    pub fn query(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let rows = st.query_map(rusqlite::params_from_iter(params), |r| {
                    (0..n).map(|i| sqlite_val(r, i)).collect::<Result<_, _>>()
                })?;
                Ok(rows.map(|r| r.map(Row)).collect::<Result<_, _>>()?)
            }
            Conn::Postgres(pg) => pg.query(sql, params),
        }
    }

    /// The first row `sql` gives, if any.
    pub fn query_one(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs `sql`; returns the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<u64> {
        match self {
            Conn::Sqlite(c) => {
                Ok(c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(params))? as u64)
            }
            Conn::Postgres(pg) => pg.execute(sql, params),
        }
    }

    /// Runs a script of statements (no parameters, no rows).
    pub fn script(&mut self, sql: &str) -> DbResult<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(pg) => pg.client(|c| Ok(c.batch_execute(sql)?)),
        }
    }

    /// Which database this is.
    pub fn kind(&self) -> &'static str {
        match self {
            Conn::Sqlite(_) => "SQLite",
            Conn::Postgres(_) => "PostgreSQL",
        }
    }
}

fn sqlite_val(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Val<'static>> {
    use rusqlite::types::ValueRef;
    Ok(match r.get_ref(i)? {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(v) => Val::Int(v),
        ValueRef::Text(t) => Val::Text(Cow::Owned(String::from_utf8_lossy(t).into_owned())),
        ValueRef::Real(_) | ValueRef::Blob(_) => {
            return Err(rusqlite::Error::InvalidColumnType(
                i,
                r.as_ref().column_name(i).unwrap_or("?").to_owned(),
                r.get_ref(i)?.data_type(),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_ddl_are_rewritten_for_postgres() {
        assert_eq!(
            dollar_params("SELECT a FROM t WHERE b = ?1 AND (?2 IS NULL OR c = ?12) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND ($2 IS NULL OR c = $12) AND d = '?'"
        );
        assert_eq!(
            postgres_ddl(
                "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER) WITHOUT ROWID;"
            ),
            "CREATE TABLE a (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT);"
        );
    }

    #[test]
    fn a_postgres_url_must_be_local_and_hold_no_password() {
        assert!(check_postgres_url("postgres://pt@127.0.0.1:5432/pt").is_ok());
        assert!(check_postgres_url("postgres://pt@localhost/pt").is_ok());
        assert!(check_postgres_url("postgres://pt@[::1]:5432/pt").is_ok());
        assert!(check_postgres_url("host=/run/postgresql user=pt dbname=pt").is_ok());
        let e = check_postgres_url("postgres://pt:secret@127.0.0.1/pt").unwrap_err();
        assert!(e.contains("database_password_env"), "{e}");
        let e = check_postgres_url("postgres://pt@db.example.com/pt").unwrap_err();
        assert!(
            e.contains("db.example.com") && e.contains("loopback"),
            "{e}"
        );
        let e = check_postgres_url("postgres://pt@127.0.0.1").unwrap_err();
        assert!(e.contains("names no database"), "{e}");
        assert!(check_postgres_url("postgres://pt@127.0.0.1:notaport/pt").is_err());
        assert_eq!(
            with_database(
                "postgres://pt@127.0.0.1:5432/postgres?sslmode=disable",
                "t1"
            ),
            "postgres://pt@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://pt@h", "t1"), "postgres://pt@h/t1");
        assert_eq!(redact("postgres://pt:pw@h/db"), "postgres://pt:***@h/db");
        assert_eq!(redact("postgres://pt@h/db"), "postgres://pt@h/db");
    }
}
