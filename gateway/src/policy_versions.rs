//! The risk policies an engine may switch to while it runs: `risk/<N>.toml`
//! in its data directory, version `N` from 1, each written once and never
//! changed.
//!
//! The control plane checks a new policy, writes it as the next version and
//! only then sends the `ReloadRisk` command naming that version through the
//! commands journal. The engine loads the file when the command arrives and
//! hands it to the gateway, which switches at the command's place in the
//! stream and journals it; on a restart (and in a replay) every version is
//! offered again, so that the journaled switches fall where they fell.
//! Version 0 is the policy the engine's configuration names (or the
//! defaults).

use crate::RiskPolicy;
use pt_engine::config::ConfigError;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The folder of the versions in a data directory.
pub const RISK: &str = "risk";

/// The versions that load, and the errors of those that do not.
pub type Loaded = (Vec<(i64, RiskPolicy)>, Vec<ConfigError>);

/// The versions in one data directory.
#[derive(Clone, Debug)]
pub struct PolicyVersions {
    dir: PathBuf,
}

fn io_error(path: &Path, what: &str, err: std::io::Error) -> ConfigError {
    ConfigError {
        source_name: path.display().to_string(),
        line: None,
        column: None,
        message: format!("cannot {what}: {err}"),
    }
}

impl PolicyVersions {
    /// The versions of the engine whose data directory is `data_dir`.
    pub fn in_data_dir(data_dir: &Path) -> PolicyVersions {
        PolicyVersions {
            dir: data_dir.join(RISK),
        }
    }

    /// The file of `version`.
    pub fn path(&self, version: i64) -> PathBuf {
        self.dir.join(format!("{version}.toml"))
    }

    /// The text of `version`.
    pub fn text(&self, version: i64) -> Result<String, ConfigError> {
        pt_engine::config::read_file(&self.path(version))
    }

    /// Reads and checks `version`.
    pub fn load(&self, version: i64) -> Result<RiskPolicy, ConfigError> {
        if version < 1 {
            return Err(ConfigError {
                source_name: self.dir.display().to_string(),
                line: None,
                column: None,
                message: format!("risk policy version {version}: versions start at 1"),
            });
        }
        RiskPolicy::load(&self.path(version))
    }

    /// The versions written, oldest first (none when the folder is missing).
    /// Other files in the folder are not versions and are passed over.
    pub fn versions(&self) -> Result<Vec<i64>, ConfigError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&self.dir, "list", e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&self.dir, "list", e))?;
            let name = entry.file_name();
            let version = name
                .to_str()
                .and_then(|n| n.strip_suffix(".toml"))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|&v| v >= 1);
            out.extend(version);
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Every version that loads, with the errors of those that do not.
    pub fn load_all(&self) -> Result<Loaded, ConfigError> {
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        for v in self.versions()? {
            match self.load(v) {
                Ok(p) => good.push((v, p)),
                Err(e) => bad.push(e),
            }
        }
        Ok((good, bad))
    }

    /// Checks `text` (errors name `source_name`, the key, the line and what
    /// was expected) and writes it, durably, as the next version; returns
    /// the version and the policy. The file appears whole or not at all.
    pub fn add(&self, text: &str, source_name: &str) -> Result<(i64, RiskPolicy), ConfigError> {
        let policy = RiskPolicy::from_toml(text, source_name)?;
        std::fs::create_dir_all(&self.dir).map_err(|e| io_error(&self.dir, "create", e))?;
        let staging = self
            .dir
            .join(format!(".incoming-{}.tmp", std::process::id()));
        {
            let mut f =
                std::fs::File::create(&staging).map_err(|e| io_error(&staging, "create", e))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| io_error(&staging, "write", e))?;
        }
        // A hard link cannot replace a file: two writers racing for one
        // version end with one each.
        let mut version = self.versions()?.last().copied().unwrap_or(0) + 1;
        let result = loop {
            match std::fs::hard_link(&staging, self.path(version)) {
                Ok(()) => break Ok((version, policy)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => version += 1,
                Err(e) => break Err(io_error(&self.path(version), "write", e)),
            }
        };
        let _ = std::fs::remove_file(&staging);
        if result.is_ok() {
            std::fs::File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error(&self.dir, "sync", e))?;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pt_engine::model::Qty;

    #[test]
    fn versions_are_numbered_from_one_written_whole_and_listed_in_order() {
        let dir = pt_tests::TestDir::new("policy-versions");
        let v = PolicyVersions::in_data_dir(&dir);
        assert_eq!(v.versions().unwrap(), Vec::<i64>::new());
        let (one, p1) = v.add("[order]\nmax_qty = 5\n", "request").unwrap();
        let (two, _) = v.add("[order]\nmax_qty = 7\n", "request").unwrap();
        assert_eq!((one, two), (1, 2));
        assert_eq!(p1.order.max_qty, Qty::from_units(5).unwrap());
        std::fs::write(dir.join(RISK).join("notes.txt"), "x").unwrap();
        std::fs::write(dir.join(RISK).join("0.toml"), "").unwrap();
        assert_eq!(v.versions().unwrap(), vec![1, 2]);
        assert_eq!(
            v.load(2).unwrap().order.max_qty,
            Qty::from_units(7).unwrap()
        );
        assert_eq!(v.text(1).unwrap(), "[order]\nmax_qty = 5\n");
        // No staging file is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.join(RISK))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn a_bad_policy_is_refused_naming_the_key_and_writes_nothing() {
        let dir = pt_tests::TestDir::new("policy-versions-bad");
        let v = PolicyVersions::in_data_dir(&dir);
        let err = v
            .add("[order]\nmax_qty = \"-1\"\n", "new.toml")
            .unwrap_err();
        assert!(
            err.to_string().starts_with("new.toml:2:") && err.to_string().contains("max_qty"),
            "{err}"
        );
        assert_eq!(v.versions().unwrap(), Vec::<i64>::new());
        assert!(v.load(0).is_err());
        let missing = v.load(3).unwrap_err();
        assert!(missing.to_string().contains("3.toml"), "{missing}");
        // A damaged version is reported, the others still load.
        v.add("", "ok").unwrap();
        std::fs::write(v.path(2), "[order]\nmax_qty = \"x\"\n").unwrap();
        let (good, bad) = v.load_all().unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].to_string().contains("2.toml"), "{}", bad[0]);
    }
}
