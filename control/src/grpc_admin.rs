//! The control service's calls that change how the engine runs rather than
//! what it trades: the risk policy version in force, and starting and
//! stopping strategies. Each goes through [`ControlService::act`], so it is
//! audited and written into `commands/` like every mutating call.

use crate::auth::Token;
use crate::grpc::ControlService;
use crate::pb;
use pt_engine::model::{
    Command, CommandAction, EventKind, Header, InstrumentId, Scope, StrategyId,
};
use pt_gateway::PolicyVersions;
use pt_gateway::policy::DEFAULTS_TOML;
use tonic::{Response, Status};

fn unavailable(e: impl std::fmt::Display) -> Status {
    Status::unavailable(e.to_string())
}

impl ControlService {
    /// The policy in force: the version the engine journaled switching to
    /// last (0, the configured file or the defaults, before any).
    pub(crate) fn risk_policy(&self) -> Result<pb::RiskPolicyReply, Status> {
        let version = {
            let ingest = self.shared.ingest.lock().unwrap_or_else(|p| p.into_inner());
            ingest.as_ref().map_or(0, |i| i.fold.risk_version)
        };
        let versions = PolicyVersions::in_data_dir(&self.data_dir);
        let newest = versions
            .versions()
            .map_err(unavailable)?
            .last()
            .copied()
            .unwrap_or(0)
            .max(version);
        let (source, text) = match (version, self.commands.policy_file()) {
            (0, None) => ("defaults".to_owned(), DEFAULTS_TOML.to_owned()),
            (0, Some(f)) => (
                f.display().to_string(),
                pt_engine::config::read_file(f).map_err(unavailable)?,
            ),
            (v, _) => (
                versions.path(v).display().to_string(),
                versions.text(v).map_err(unavailable)?,
            ),
        };
        Ok(pb::RiskPolicyReply {
            version,
            source,
            text,
            newest,
        })
    }

    /// Checks `text`, writes it as the next version (and into
    /// `config_versions`), then has the engine switch to it.
    pub(crate) fn set_risk(
        &self,
        who: &Token,
        text: String,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let versions = PolicyVersions::in_data_dir(&self.data_dir);
        // Checked and written before the command that names it.
        let added = versions.add(&text, "the new policy");
        let detail = match &added {
            Ok((v, _)) => format!("version {v}"),
            Err(_) => "a new version".to_owned(),
        };
        self.act(who, "SetRiskPolicy", detail, |now| {
            let (version, _) = added.map_err(|e| e.to_string())?;
            let path = versions.path(version).display().to_string();
            self.audit
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .config_version(&path, &text)
                .map_err(|e| format!("recording {path} in the store: {e:#}"))?;
            Ok(Command {
                header: Header::new(EventKind::Command, InstrumentId(0), 0, now),
                action: CommandAction::ReloadRisk,
                scope: Scope::Global,
                arg: version,
                ..Command::default()
            })
        })
    }

    /// Starts or stops strategy `strategy`.
    pub(crate) fn set_running(
        &self,
        who: &Token,
        strategy: u32,
        running: bool,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let (action, verb) = if running {
            ("StartStrategy", "start")
        } else {
            ("StopStrategy", "stop")
        };
        let detail = format!("{verb} strategy {strategy}");
        self.act(who, action, detail, |now| {
            let n = self.commands.strategies();
            let id = u16::try_from(strategy)
                .ok()
                .filter(|&s| s >= 1 && usize::from(s) <= n)
                .ok_or_else(|| {
                    format!("strategy {strategy}: the engine runs strategies 1 to {n}")
                })?;
            Ok(Command {
                header: Header::new(EventKind::Command, InstrumentId(0), 0, now),
                action: CommandAction::SetRunning,
                scope: Scope::Strategy,
                strategy: StrategyId(id),
                arg: i64::from(running),
                ..Command::default()
            })
        })
    }
}
