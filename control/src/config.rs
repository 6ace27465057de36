//! The `[control]` table of `pt.toml`: what `pt run` does beside the engine.
//!
//! ```toml
//! [control]
//! http = "127.0.0.1:8680"       # /health, /metrics and /api/v1
//! grpc = "127.0.0.1:8681"       # the gRPC control service (pt ctl, grpcurl)
//!                               # off loopback, both serve TLS only, with:
//! tls_cert = "control.crt"      # PEM: the certificate, then its CA's (`pt ctl make-cert`)
//! tls_key = "control.key"       # PEM: its key, readable by its owner only (chmod 600)
//! database = "pt.db"            # SQLite file, relative to data_dir, or a PostgreSQL URL:
//!                               # "postgres://pt@127.0.0.1:5432/pt" (loopback or a unix socket)
//! database_password_env = "PT_DB_PASSWORD"  # its password, in this variable of `pt run`
//! key_env = "PT_ENGINE_KEY"     # the venue key's PEM in this variable of `pt run`
//!                               # (else feed.key_file, read by `pt run`, never the engine)
//! heartbeat_timeout_ms = 3000   # no heartbeat in md/ this long: the engine is killed and restarted
//! restart_min_ms = 500          # restart backoff, doubling up to restart_max_ms
//! restart_max_ms = 30000
//! stop_timeout_ms = 10000       # SIGTERM, then SIGKILL after this long
//! sample_ms = 1000              # a market's top of book stored at most this often
//! pnl_every_ms = 1000           # PnL stored at a heartbeat this often
//!
//! [[control.token]]             # one per person or program; `pt ctl hash-token` makes the hash
//! name = "alice"
//! role = "admin"                # viewer | operator | admin
//! sha256 = "9f86d0…"            # of the token, never the token itself
//! ```

use crate::auth::{Role, Token, parse_hex};
use crate::db::{Location, check_postgres_url};
use crate::tls::TlsFiles;
use pt_engine::config::{ConfigError, Field, Reader, line_col};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

/// The `[control]` table as written.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct ControlFile {
    http: Option<Spanned<String>>,
    grpc: Option<Spanned<String>>,
    tls_cert: Option<Spanned<String>>,
    tls_key: Option<Spanned<String>>,
    #[serde(default)]
    token: Vec<TokenFile>,
    database: Option<Spanned<String>>,
    database_password_env: Option<Spanned<String>>,
    key_env: Option<Spanned<String>>,
    heartbeat_timeout_ms: Field,
    restart_min_ms: Field,
    restart_max_ms: Field,
    stop_timeout_ms: Field,
    sample_ms: Field,
    pnl_every_ms: Field,
}

/// One `[[control.token]]`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    name: Spanned<String>,
    role: Spanned<String>,
    sha256: Spanned<String>,
}

/// The `[control]` table, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlSettings {
    /// Where the HTTP server listens (loopback unless `tls` is set).
    pub http: SocketAddr,
    /// Where the gRPC service listens (loopback unless `tls` is set).
    pub grpc: SocketAddr,
    /// The certificate both servers present; without one they speak plain
    /// text, on loopback only.
    pub tls: Option<TlsFiles>,
    /// Who may call it.
    pub tokens: Vec<Token>,
    /// The SQLite file.
    pub database: Location,
    /// The variable of `pt run`'s environment that holds the venue key.
    pub key_env: Option<String>,
    pub heartbeat_timeout: Duration,
    pub restart_min: Duration,
    pub restart_max: Duration,
    pub stop_timeout: Duration,
    pub sample: Duration,
    pub pnl_every: Duration,
}

fn at(text: &str, source: &str, span: std::ops::Range<usize>, message: String) -> ConfigError {
    let (line, column) = line_col(text, span.start);
    ConfigError {
        source_name: source.to_owned(),
        line: Some(line),
        column: Some(column),
        message,
    }
}

/// The address and port at `key`, or `127.0.0.1:<port>`; off loopback only
/// with TLS.
fn listen_addr(
    text: &str,
    source: &str,
    key: &str,
    field: &Option<Spanned<String>>,
    port: u16,
    tls: bool,
) -> Result<SocketAddr, ConfigError> {
    let Some(s) = field else {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    };
    let v = s.get_ref();
    let addr: SocketAddr = v.parse().map_err(|_| {
        at(
            text,
            source,
            s.span(),
            format!("{key} = {v:?}: expected an address and port such as \"127.0.0.1:{port}\""),
        )
    })?;
    if !addr.ip().is_loopback() && !tls {
        return Err(at(
            text,
            source,
            s.span(),
            format!(
                "{key} = {v:?}: off loopback the control plane serves TLS only: set control.tls_cert and control.tls_key (`pt ctl make-cert` makes a pair), or listen on 127.0.0.1 and reach it through an SSH tunnel"
            ),
        ));
    }
    Ok(addr)
}

impl ControlSettings {
    /// Checks `file` (from `text`, read from `source`); the database's
    /// relative path is taken from `data_dir`, the certificate's from `base`
    /// (the config file's folder).
    pub fn read(
        text: &str,
        source: &str,
        file: &ControlFile,
        data_dir: &Path,
        base: &Path,
    ) -> Result<ControlSettings, ConfigError> {
        let r = Reader::new(text, source);
        let ms = |key: &str, f: &Field, default: u32, min: u32| -> Result<Duration, ConfigError> {
            Ok(Duration::from_millis(u64::from(r.count(
                &format!("control.{key}"),
                f,
                default,
                min,
            )?)))
        };
        let tls = match (&file.tls_cert, &file.tls_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: base.join(cert.get_ref()),
                key: base.join(key.get_ref()),
            }),
            (Some(s), None) | (None, Some(s)) => {
                let (set, unset) = if file.tls_cert.is_some() {
                    ("tls_cert", "tls_key")
                } else {
                    ("tls_key", "tls_cert")
                };
                return Err(at(
                    text,
                    source,
                    s.span(),
                    format!(
                        "control.{set} is set but control.{unset} is not: expected both (the certificate and its key)"
                    ),
                ));
            }
        };
        let http = listen_addr(
            text,
            source,
            "control.http",
            &file.http,
            8680,
            tls.is_some(),
        )?;
        let grpc = listen_addr(
            text,
            source,
            "control.grpc",
            &file.grpc,
            8681,
            tls.is_some(),
        )?;
        let mut tokens = Vec::with_capacity(file.token.len());
        for (i, t) in file.token.iter().enumerate() {
            let key = |k: &str| format!("control.token[{}].{k}", i + 1);
            let role = Role::parse(t.role.get_ref()).ok_or_else(|| {
                at(
                    text,
                    source,
                    t.role.span(),
                    format!(
                        "{} = {:?}: expected viewer, operator or admin",
                        key("role"),
                        t.role.get_ref()
                    ),
                )
            })?;
            let sha256 = parse_hex(t.sha256.get_ref()).ok_or_else(|| {
                at(text, source, t.sha256.span(), format!(
                    "{} = {:?}: expected the token's SHA-256 as 64 hex digits (`pt ctl hash-token` prints it)",
                    key("sha256"),
                    t.sha256.get_ref()
                ))
            })?;
            if t.name.get_ref().is_empty()
                || tokens.iter().any(|x: &Token| x.name == *t.name.get_ref())
            {
                return Err(at(
                    text,
                    source,
                    t.name.span(),
                    format!(
                        "{} = {:?}: expected a name no other token has",
                        key("name"),
                        t.name.get_ref()
                    ),
                ));
            }
            tokens.push(Token {
                name: t.name.get_ref().clone(),
                role,
                sha256,
            });
        }
        let env_name = |key: &str, s: &Spanned<String>| -> Result<String, ConfigError> {
            let v = s.get_ref();
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(at(
                    text,
                    source,
                    s.span(),
                    format!(
                        "control.{key} = {v:?}: expected an environment variable name (letters, digits and _)"
                    ),
                ));
            }
            Ok(v.clone())
        };
        let password_env = file
            .database_password_env
            .as_ref()
            .map(|s| env_name("database_password_env", s))
            .transpose()?;
        let database = match &file.database {
            None => Location::Sqlite(data_dir.join(crate::store::DB_FILE)),
            Some(s) if s.get_ref().contains("://") => {
                let url = s.get_ref();
                let shown = crate::db::redact(url);
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(at(
                        text,
                        source,
                        s.span(),
                        format!(
                            "control.database = {shown:?}: expected a SQLite file name or a postgres:// URL"
                        ),
                    ));
                }
                check_postgres_url(url).map_err(|e| {
                    at(
                        text,
                        source,
                        s.span(),
                        format!("control.database = {shown:?}: {e}"),
                    )
                })?;
                Location::Postgres {
                    url: url.clone(),
                    password_env,
                }
            }
            Some(s) => {
                if let Some(p) = &file.database_password_env {
                    return Err(at(
                        text,
                        source,
                        p.span(),
                        "control.database_password_env: expected only with a postgres:// control.database (a SQLite file has no password)".into(),
                    ));
                }
                Location::Sqlite(data_dir.join(s.get_ref()))
            }
        };
        let key_env = file
            .key_env
            .as_ref()
            .map(|s| env_name("key_env", s))
            .transpose()?;
        let restart_min = ms("restart_min_ms", &file.restart_min_ms, 500, 1)?;
        let restart_max = ms("restart_max_ms", &file.restart_max_ms, 30_000, 1)?;
        if restart_max < restart_min {
            let f = file
                .restart_max_ms
                .as_ref()
                .or(file.restart_min_ms.as_ref());
            if let Some(f) = f {
                return Err(r.error(
                    "control.restart_max_ms",
                    f,
                    &format!(
                        "at least control.restart_min_ms ({} ms)",
                        restart_min.as_millis()
                    ),
                ));
            }
        }
        Ok(ControlSettings {
            http,
            grpc,
            tls,
            tokens,
            database,
            key_env,
            heartbeat_timeout: ms(
                "heartbeat_timeout_ms",
                &file.heartbeat_timeout_ms,
                3_000,
                100,
            )?,
            restart_min,
            restart_max,
            stop_timeout: ms("stop_timeout_ms", &file.stop_timeout_ms, 10_000, 100)?,
            sample: ms("sample_ms", &file.sample_ms, 1_000, 0)?,
            pnl_every: ms("pnl_every_ms", &file.pnl_every_ms, 1_000, 0)?,
        })
    }
}
