//! `pt ctl`: the operator's console to a running `pt run`, over its gRPC
//! control service. Tables by default, `--json` for scripts. The token
//! comes from `$PT_TOKEN` or `--token-file` (readable by its owner only),
//! never from the command line.

use anyhow::Context as _;
use pt_control::pb;
use pt_control::pb::control_client::ControlClient;
use serde_json::{Value, json};
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use tonic::Request;
use tonic::transport::Channel;

#[derive(Debug, clap::Args)]
pub(crate) struct CtlArgs {
    /// The config `pt run` runs with; its control.grpc is the address.
    #[arg(long, default_value = "pt.toml", value_name = "FILE", global = true)]
    config: PathBuf,
    /// The control service's address (instead of the config's).
    #[arg(long, value_name = "HOST:PORT", global = true)]
    addr: Option<SocketAddr>,
    /// Over TLS, trusting this CA certificate (PEM; `make-cert` writes
    /// control-ca.crt); else the config's control.tls_cert when set.
    #[arg(long, value_name = "FILE", global = true)]
    ca: Option<PathBuf>,
    /// The name the service's certificate carries (default: the address).
    #[arg(long, value_name = "NAME", global = true)]
    server_name: Option<String>,
    /// A file holding the token (chmod 600); else $PT_TOKEN.
    #[arg(long, value_name = "FILE", global = true)]
    token_file: Option<PathBuf>,
    /// JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Debug, clap::Args)]
struct ScopeArgs {
    /// Only this venue (kalshi).
    #[arg(long, conflicts_with = "strategy")]
    venue: Option<String>,
    /// Only this strategy (numbered from 1 as in the config).
    #[arg(long)]
    strategy: Option<u32>,
}

#[derive(Debug, clap::Subcommand)]
enum CtlCommand {
    /// The engine, the store and the trading state.
    Status,
    /// Holdings per mode.
    Positions {
        /// paper, shadow or live.
        #[arg(long)]
        mode: Option<String>,
    },
    /// Orders, newest first.
    Orders {
        /// open, or a state (acked, filled, cancelled, rejected, ...).
        #[arg(long)]
        state: Option<String>,
        /// Orders per page (1 to 1000).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// The next page: the cursor the previous page printed.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Set the venue's mode; live asks you to type `live` unless --yes.
    Mode {
        /// paper, shadow or live.
        mode: String,
        #[arg(long)]
        yes: bool,
    },
    /// Halt trading (everything, a venue or a strategy) and cancel its open orders.
    Kill(ScopeArgs),
    /// Let a killed scope trade again.
    Resume(ScopeArgs),
    /// Cancel a scope's orders and close its positions.
    Flatten(ScopeArgs),
    /// Send an external signal: a market's probability.
    Signal {
        #[arg(long)]
        market: String,
        #[arg(long)]
        probability: String,
        #[arg(long, default_value = "1")]
        confidence: String,
        /// Seconds it stays valid.
        #[arg(long, default_value_t = 30)]
        ttl: u32,
    },
    /// Change a running strategy's parameter: NAME=VALUE.
    Param {
        #[arg(long)]
        strategy: u32,
        #[arg(value_name = "NAME=VALUE")]
        change: String,
    },
    /// The risk policy: show the one in force, or set a new one (admin).
    Risk {
        #[command(subcommand)]
        action: super::ctl_admin::RiskAction,
    },
    /// Stop or start a strategy.
    Strategy {
        #[command(subcommand)]
        action: super::ctl_admin::StrategyAction,
    },
    /// Tick-to-trade and store lag percentiles.
    Latency,
    /// Follow the orders journal as it is written (Ctrl-C ends).
    Tail {
        /// From this sequence number instead of new records only.
        #[arg(long)]
        from: Option<u64>,
    },
    /// Print the SHA-256 of a token read from stdin, for [[control.token]].
    HashToken,
    /// Make a certificate and key for the control servers off loopback.
    MakeCert(super::ctl_tls::MakeCertArgs),
}

fn token(args: &CtlArgs) -> anyhow::Result<String> {
    if let Some(f) = &args.token_file {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(f)
            .with_context(|| format!("--token-file {}", f.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "--token-file {} can be read by others (mode {:03o}); run `chmod 600 {}`",
                f.display(),
                mode & 0o777,
                f.display()
            );
        }
        return Ok(std::fs::read_to_string(f)?.trim().to_owned());
    }
    match std::env::var("PT_TOKEN") {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
        _ => anyhow::bail!(
            "no token: set $PT_TOKEN or pass --token-file FILE (a token whose sha256 is in the config's [[control.token]])"
        ),
    }
}

pub(super) fn request<T>(token: &str, msg: T) -> anyhow::Result<Request<T>> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .map_err(|_| anyhow::anyhow!("the token has characters a header cannot carry"))?,
    );
    Ok(r)
}

pub(super) fn status_error(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{} ({:?})", s.message(), s.code())
}

/// Columns padded to their widest cell.
fn table(head: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(head.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r.clone());
    }
    if rows.is_empty() {
        println!("(none)");
    }
}

fn scope(s: &ScopeArgs) -> pb::ScopeRequest {
    pb::ScopeRequest {
        venue: s.venue.clone().unwrap_or_default(),
        strategy: s.strategy.unwrap_or(0),
    }
}

pub(crate) fn run(args: CtlArgs) -> anyhow::Result<()> {
    if let CtlCommand::HashToken = args.command {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if line.trim().is_empty() {
            anyhow::bail!("stdin: expected the token on one line");
        }
        println!("{}", pt_control::auth::hash_hex(&line));
        return Ok(());
    }
    if let CtlCommand::MakeCert(a) = &args.command {
        return super::ctl_tls::make_cert(a);
    }
    let token = token(&args)?;
    let target = super::ctl_tls::target(
        &args.config,
        args.addr,
        args.ca.as_deref(),
        args.server_name.as_deref(),
    )?;
    let addr = target.addr;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let channel = pt_control::tls::channel(addr, target.tls)
            .await
            .map_err(|e| {
                let mut why = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    why.push_str(&format!(": {s}"));
                    source = s.source();
                }
                anyhow::anyhow!(
                    "cannot reach pt run's control service at {addr}: {why}; is `pt run --config {}` running?",
                    args.config.display()
                )
            })?;
        let mut c = ControlClient::new(channel);
        command(&mut c, &args, &token).await
    })
}

pub(super) fn reply(json_out: bool, r: pb::CommandReply) {
    if json_out {
        println!(
            "{}",
            json!({"seq": r.seq, "message": r.message, "audit_id": r.audit_id})
        );
    } else {
        println!("{}", r.message);
    }
}

async fn command(
    c: &mut ControlClient<Channel>,
    args: &CtlArgs,
    token: &str,
) -> anyhow::Result<()> {
    let j = args.json;
    match &args.command {
        CtlCommand::Status => {
            let s = c
                .status(request(token, pb::StatusRequest {})?)
                .await
                .map_err(status_error)?
                .into_inner();
            let pnl: Vec<Value> = s
                .pnl
                .iter()
                .map(|p| json!({"mode": p.mode, "realized": p.realized, "unrealized": p.unrealized, "fees": p.fees, "total": p.total}))
                .collect();
            let v = json!({
                "engine": {"running": s.engine_running, "pid": s.engine_pid, "ready": s.engine_ready,
                           "restarts": s.restarts, "heartbeat_age_ms": s.heartbeat_age_ms},
                "mode": s.mode, "mode_set": s.mode_set, "trading": s.trading,
                "store": {"caught_up": s.store_caught_up, "journal_lag_ms": s.journal_lag_ms},
                "open_orders": s.open_orders, "fills": s.fills, "rejects": s.rejects,
                "md_events": s.md_events, "pnl": pnl,
                "stopped_strategies": s.stopped_strategies, "risk_version": s.risk_version,
            });
            if j {
                println!("{v}");
                return Ok(());
            }
            println!(
                "engine     {} (pid {}, {} restarts, heartbeat {} ms ago)",
                if s.engine_ready {
                    "ready"
                } else if s.engine_running {
                    "starting"
                } else {
                    "down"
                },
                s.engine_pid,
                s.restarts,
                s.heartbeat_age_ms
            );
            println!(
                "trading    {} in {} mode{}",
                s.trading,
                s.mode,
                if s.mode_set.is_empty() {
                    String::new()
                } else {
                    format!(" (set to {} by command)", s.mode_set)
                }
            );
            println!(
                "store      {} (lag {} ms)",
                if s.store_caught_up {
                    "caught up"
                } else {
                    "behind"
                },
                s.journal_lag_ms
            );
            println!(
                "orders     {} open, {} fills, {} rejects; {} market events",
                s.open_orders, s.fills, s.rejects, s.md_events
            );
            if !s.stopped_strategies.is_empty() {
                let list: Vec<String> = s.stopped_strategies.iter().map(u32::to_string).collect();
                println!(
                    "stopped    strategies {} (pt ctl strategy start N)",
                    list.join(", ")
                );
            }
            if s.risk_version > 0 {
                println!(
                    "risk       policy version {} (pt ctl risk show)",
                    s.risk_version
                );
            }
            let rows: Vec<Vec<String>> = s
                .pnl
                .iter()
                .map(|p| {
                    vec![
                        p.mode.clone(),
                        p.realized.clone(),
                        p.unrealized.clone(),
                        p.fees.clone(),
                        p.total.clone(),
                    ]
                })
                .collect();
            table(&["MODE", "REALIZED", "UNREALIZED", "FEES", "TOTAL"], &rows);
        }
        CtlCommand::Positions { mode } => {
            let r = c
                .list_positions(request(
                    token,
                    pb::ListPositionsRequest {
                        mode: mode.clone().unwrap_or_default(),
                    },
                )?)
                .await
                .map_err(status_error)?
                .into_inner();
            if j {
                let v: Vec<Value> = r.positions.iter().map(|p| json!({"mode": p.mode, "ticker": p.ticker, "qty": p.qty, "cost_basis": p.cost_basis, "realized": p.realized})).collect();
                println!("{}", Value::Array(v));
            } else {
                let rows: Vec<Vec<String>> = r
                    .positions
                    .iter()
                    .map(|p| {
                        vec![
                            p.mode.clone(),
                            p.ticker.clone(),
                            p.qty.clone(),
                            p.cost_basis.clone(),
                            p.realized.clone(),
                        ]
                    })
                    .collect();
                table(&["MODE", "MARKET", "QTY", "COST", "REALIZED"], &rows);
            }
        }
        CtlCommand::Orders {
            state,
            limit,
            cursor,
        } => {
            let r = c
                .list_orders(request(
                    token,
                    pb::ListOrdersRequest {
                        state: state.clone().unwrap_or_default(),
                        limit: *limit,
                        cursor: cursor.clone().unwrap_or_default(),
                    },
                )?)
                .await
                .map_err(status_error)?
                .into_inner();
            if j {
                let v: Vec<Value> = r.orders.iter().map(|o| json!({"client_order_id": o.client_order_id, "ticker": o.ticker, "side": o.side, "price": o.price, "qty": o.qty, "cum_qty": o.cum_qty, "state": o.state, "mode": o.mode, "venue_order_id": o.venue_order_id, "updated_ns": o.updated_ns})).collect();
                println!("{}", Value::Array(v));
            } else {
                let rows: Vec<Vec<String>> = r
                    .orders
                    .iter()
                    .map(|o| {
                        vec![
                            o.client_order_id.clone(),
                            o.ticker.clone(),
                            o.side.clone(),
                            o.price.clone(),
                            o.qty.clone(),
                            o.cum_qty.clone(),
                            o.state.clone(),
                            o.mode.clone(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "ORDER", "MARKET", "SIDE", "PRICE", "QTY", "FILLED", "STATE", "MODE",
                    ],
                    &rows,
                );
                if !r.next_cursor.is_empty() {
                    println!(
                        "more: pt ctl orders --limit {limit} --cursor {}{}",
                        r.next_cursor,
                        state
                            .as_ref()
                            .map_or_else(String::new, |s| format!(" --state {s}"))
                    );
                }
            }
        }
        CtlCommand::Mode { mode, yes } => {
            let mut confirm = false;
            if mode == "live" {
                confirm = *yes;
                if !confirm {
                    eprint!("live mode sends real orders to the venue. Type `live` to confirm: ");
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    if line.trim() != "live" {
                        anyhow::bail!("not confirmed: the mode is unchanged");
                    }
                    confirm = true;
                }
            }
            let r = c
                .set_mode(request(
                    token,
                    pb::SetModeRequest {
                        mode: mode.clone(),
                        venue: String::new(),
                        confirm,
                    },
                )?)
                .await
                .map_err(status_error)?;
            reply(j, r.into_inner());
        }
        CtlCommand::Kill(s) => reply(
            j,
            c.kill(request(token, scope(s))?)
                .await
                .map_err(status_error)?
                .into_inner(),
        ),
        CtlCommand::Resume(s) => reply(
            j,
            c.resume(request(token, scope(s))?)
                .await
                .map_err(status_error)?
                .into_inner(),
        ),
        CtlCommand::Flatten(s) => reply(
            j,
            c.flatten(request(token, scope(s))?)
                .await
                .map_err(status_error)?
                .into_inner(),
        ),
        CtlCommand::Signal {
            market,
            probability,
            confidence,
            ttl,
        } => {
            let r = c
                .send_signal(request(
                    token,
                    pb::SendSignalRequest {
                        market: market.clone(),
                        probability: probability.clone(),
                        confidence: confidence.clone(),
                        ttl_seconds: *ttl,
                    },
                )?)
                .await
                .map_err(status_error)?;
            reply(j, r.into_inner());
        }
        CtlCommand::Param { strategy, change } => {
            let Some((name, value)) = change.split_once('=') else {
                anyhow::bail!("{change:?}: expected NAME=VALUE, e.g. size=3");
            };
            let r = c
                .set_strategy_param(request(
                    token,
                    pb::SetStrategyParamRequest {
                        strategy: *strategy,
                        name: name.into(),
                        value: value.into(),
                    },
                )?)
                .await
                .map_err(status_error)?;
            reply(j, r.into_inner());
        }
        CtlCommand::Strategy { action } => super::ctl_admin::strategy(c, action, j, token).await?,
        CtlCommand::Risk { action } => super::ctl_admin::risk(c, action, j, token).await?,
        CtlCommand::Latency => {
            let r = c
                .get_latency(request(token, pb::GetLatencyRequest {})?)
                .await
                .map_err(status_error)?
                .into_inner();
            let q = |v: &[pb::Quantile]| -> Vec<Value> {
                v.iter()
                    .map(|x| json!({"quantile": x.quantile, "nanos": x.nanos}))
                    .collect()
            };
            if j {
                println!(
                    "{}",
                    json!({"tick_to_trade": q(&r.tick_to_trade), "count": r.tick_to_trade_count, "store_lag": q(&r.store_lag)})
                );
            } else {
                println!("tick-to-trade over {} orders", r.tick_to_trade_count);
                let us = |n: u64| format!("{:.1} µs", n as f64 / 1e3);
                let rows: Vec<Vec<String>> = r
                    .tick_to_trade
                    .iter()
                    .zip(r.store_lag.iter())
                    .map(|(t, l)| {
                        vec![
                            format!("p{}", t.quantile * 100.0),
                            us(t.nanos),
                            format!("{:.1} ms", l.nanos as f64 / 1e6),
                        ]
                    })
                    .collect();
                table(&["QUANTILE", "TICK-TO-TRADE", "STORE LAG"], &rows);
            }
        }
        CtlCommand::Tail { from } => {
            let req = pb::StreamEventsRequest {
                from_seq: from.unwrap_or(0),
                from_end: from.is_none(),
            };
            let mut s = c
                .stream_events(request(token, req)?)
                .await
                .map_err(status_error)?
                .into_inner();
            while let Some(e) = s.message().await.map_err(status_error)? {
                if j {
                    println!(
                        "{}",
                        json!({"seq": e.seq, "ts_ns": e.ts_ns, "kind": e.kind, "order": e.client_order_id, "ticker": e.ticker, "side": e.side, "price": e.price, "qty": e.qty, "reason": e.reason})
                    );
                } else {
                    println!(
                        "{:>8} {:<16} {:<14} {:<20} {:<5} {:>6} x {:<6} {}",
                        e.seq,
                        e.kind,
                        e.client_order_id,
                        e.ticker,
                        e.side,
                        e.price,
                        e.qty,
                        e.reason
                    );
                }
            }
        }
        CtlCommand::HashToken | CtlCommand::MakeCert(_) => {
            unreachable!("answered before connecting")
        }
    }
    Ok(())
}
