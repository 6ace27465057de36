//! `pt ctl risk` (the risk policy in force, and switching to a new one)
//! and `pt ctl strategy` (starting and stopping strategies).

use super::ctl::{reply, request, status_error};
use anyhow::Context as _;
use pt_control::pb;
use pt_control::pb::control_client::ControlClient;
use serde_json::json;
use std::path::PathBuf;
use tonic::transport::Channel;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum RiskAction {
    /// The policy in force: its version, its file and its text.
    Show,
    /// Check FILE (the format of the config's risk_policy file) and have the
    /// engine switch to it (admin). The engine keeps its policy if it fails.
    Set {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

pub(crate) async fn risk(
    c: &mut ControlClient<Channel>,
    action: &RiskAction,
    json_out: bool,
    token: &str,
) -> anyhow::Result<()> {
    match action {
        RiskAction::Show => {
            let r = c
                .get_risk_policy(request(token, pb::GetRiskPolicyRequest {})?)
                .await
                .map_err(status_error)?
                .into_inner();
            if json_out {
                println!(
                    "{}",
                    json!({"version": r.version, "source": r.source, "text": r.text, "newest": r.newest})
                );
                return Ok(());
            }
            let which = if r.version == 0 {
                "the configured policy (version 0)".to_owned()
            } else {
                format!("version {}", r.version)
            };
            println!("risk policy in force: {which}, from {}", r.source);
            if r.newest > r.version {
                println!(
                    "version {} is written and not yet in force: the engine switches when it takes the command (is it running? see `pt ctl status`)",
                    r.newest
                );
            }
            print!("{}", r.text);
            if !r.text.ends_with('\n') {
                println!();
            }
        }
        RiskAction::Set { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the policy {}", file.display()))?;
            // Checked here first, for errors that name this file.
            pt_gateway::RiskPolicy::from_toml(&text, &file.display().to_string())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let r = c
                .set_risk_policy(request(token, pb::SetRiskPolicyRequest { text })?)
                .await
                .map_err(status_error)?;
            reply(json_out, r.into_inner());
            if !json_out {
                println!("`pt ctl risk show` says when the engine has switched to it");
            }
        }
    }
    Ok(())
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum StrategyAction {
    /// Stop strategy N (numbered from 1 as in the config): its open orders
    /// are cancelled and it is given nothing until started; it stays
    /// stopped across restarts.
    Stop {
        #[arg(value_name = "N")]
        strategy: u32,
    },
    /// Start a stopped strategy N again; a tripped kill switch still
    /// refuses its orders until `pt ctl resume`.
    Start {
        #[arg(value_name = "N")]
        strategy: u32,
    },
}

pub(crate) async fn strategy(
    c: &mut ControlClient<Channel>,
    action: &StrategyAction,
    json_out: bool,
    token: &str,
) -> anyhow::Result<()> {
    let (strategy, running) = match action {
        StrategyAction::Stop { strategy } => (*strategy, false),
        StrategyAction::Start { strategy } => (*strategy, true),
    };
    let r = c
        .set_strategy_running(request(
            token,
            pb::SetStrategyRunningRequest { strategy, running },
        )?)
        .await
        .map_err(status_error)?;
    reply(json_out, r.into_inner());
    Ok(())
}
