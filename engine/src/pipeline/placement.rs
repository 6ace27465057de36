//! Which stages run on which thread, pinned to which core.

use super::wait::WaitStrategy;
use core::fmt;
use core::ops::Range;
use serde::Deserialize;

/// How stages are laid out on threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlacementMode {
    /// Choose from the cores available: one core per stage when there are
    /// enough (keeping the first core for the feeding thread and the OS),
    /// otherwise contiguous stages fused onto the cores there are. On a
    /// 2-core host every stage is fused onto the second core.
    #[default]
    Auto,
    /// One thread per stage.
    OnePerStage,
    /// Every stage on one thread.
    Fused,
    /// The named groups of `[[pipeline.group]]`, each a thread.
    Groups,
}

/// A thread of fused stages, as configured.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Thread name (shown as `pt-<name>`).
    pub name: String,
    /// Stage names, contiguous and in pipeline order.
    pub stages: Vec<String>,
    /// The core to pin to; `None` lets the OS schedule it.
    #[serde(default)]
    pub core: Option<usize>,
}

/// The `[pipeline]` section of the engine config.
///
/// ```toml
/// [pipeline]
/// placement = "groups"     # auto | one-per-stage | fused | groups
/// wait = "busy-spin"       # busy-spin | spin-yield | park; omitted: chosen by placement
/// ring_capacity = 4096
/// pin = true
///
/// [[pipeline.group]]
/// name = "md"
/// stages = ["feed", "book"]
/// core = 2
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Placement mode.
    #[serde(default)]
    pub placement: PlacementMode,
    /// Wait strategy for every stage thread; chosen from the placement when absent.
    #[serde(default)]
    pub wait: Option<WaitStrategy>,
    /// Events each ring holds (rounded up to a power of two).
    #[serde(default = "default_ring_capacity")]
    pub ring_capacity: usize,
    /// Pin threads to cores. Off: threads float, any placement fits any host.
    #[serde(default = "default_pin")]
    pub pin: bool,
    /// Cores the pipeline may use; absent: every core this process may run on.
    #[serde(default)]
    pub cores: Option<Vec<usize>>,
    /// Groups, for `placement = "groups"`.
    #[serde(default, rename = "group")]
    pub groups: Vec<GroupSpec>,
}

fn default_ring_capacity() -> usize {
    4096
}

fn default_pin() -> bool {
    true
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            placement: PlacementMode::Auto,
            wait: None,
            ring_capacity: default_ring_capacity(),
            pin: true,
            cores: None,
            groups: Vec::new(),
        }
    }
}

impl PipelineConfig {
    /// A config with `placement`, unpinned threads and `wait`.
    pub fn unpinned(placement: PlacementMode, wait: WaitStrategy) -> PipelineConfig {
        PipelineConfig {
            placement,
            wait: Some(wait),
            pin: false,
            ..PipelineConfig::default()
        }
    }
}

/// One thread of a resolved placement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadPlan {
    /// Thread name.
    pub name: String,
    /// Positions of its stages in the pipeline.
    pub stages: Range<usize>,
    /// Core it is pinned to.
    pub core: Option<usize>,
}

/// A resolved placement: threads in pipeline order and how they wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Threads, each running a contiguous run of stages.
    pub threads: Vec<ThreadPlan>,
    /// How every thread waits.
    pub wait: WaitStrategy,
}

/// Why a placement cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlacementError {
    /// The pipeline has no stages.
    NoStages,
    /// Two stages share a name.
    DuplicateStageName(String),
    /// `ring_capacity` is below 2 or above 2^30.
    BadRingCapacity(usize),
    /// `placement = "groups"` without groups, or groups with another mode.
    GroupsMismatch(PlacementMode),
    /// A group names a stage the pipeline does not have.
    UnknownStage {
        /// The group.
        group: String,
        /// The name it gave.
        stage: String,
    },
    /// A group's stages are not the next stages in pipeline order.
    OutOfOrder {
        /// The group.
        group: String,
        /// The stage that should come next.
        expected: String,
        /// The stage the group gave.
        found: String,
    },
    /// A group has no stages.
    EmptyGroup(String),
    /// Stages that no group covers.
    Uncovered(Vec<String>),
    /// A pinned core is not available to this process.
    CoreUnavailable {
        /// The group (or thread) asking for it.
        group: String,
        /// The core.
        core: usize,
        /// The cores that are available.
        available: Vec<usize>,
    },
    /// Two threads are pinned to one core.
    CoreShared {
        /// The core.
        core: usize,
        /// The first thread on it.
        first: String,
        /// The second.
        second: String,
    },
    /// One-per-stage pinning needs more cores than there are.
    NotEnoughCores {
        /// Cores needed.
        needed: usize,
        /// Cores available.
        available: usize,
    },
}

impl fmt::Display for PlacementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlacementError::NoStages => f.write_str("the pipeline has no stages"),
            PlacementError::DuplicateStageName(n) => {
                write!(f, "two stages are named {n:?}; stage names must be unique")
            }
            PlacementError::BadRingCapacity(c) => {
                write!(f, "pipeline.ring_capacity = {c}: expected 2 to 1073741824")
            }
            PlacementError::GroupsMismatch(mode) => match mode {
                PlacementMode::Groups => f.write_str(
                    "pipeline.placement = \"groups\" needs at least one [[pipeline.group]]",
                ),
                other => write!(
                    f,
                    "[[pipeline.group]] entries are only used with placement = \"groups\", not {other:?}"
                ),
            },
            PlacementError::UnknownStage { group, stage } => write!(
                f,
                "pipeline.group {group:?} names stage {stage:?}, which the pipeline does not have"
            ),
            PlacementError::OutOfOrder {
                group,
                expected,
                found,
            } => write!(
                f,
                "pipeline.group {group:?} lists {found:?} where {expected:?} comes next; groups must list contiguous stages in pipeline order"
            ),
            PlacementError::EmptyGroup(g) => write!(f, "pipeline.group {g:?} has no stages"),
            PlacementError::Uncovered(stages) => {
                write!(f, "no pipeline.group runs stages {stages:?}")
            }
            PlacementError::CoreUnavailable {
                group,
                core,
                available,
            } => write!(
                f,
                "pipeline.group {group:?} asks for core {core}; this process may use cores {available:?}"
            ),
            PlacementError::CoreShared {
                core,
                first,
                second,
            } => write!(
                f,
                "threads {first:?} and {second:?} are both pinned to core {core}; fuse them into one group instead"
            ),
            PlacementError::NotEnoughCores { needed, available } => write!(
                f,
                "placement = \"one-per-stage\" with pinning needs {needed} cores (one per stage plus one for the feeding thread); {available} available. Use \"auto\", \"groups\", or pin = false"
            ),
        }
    }
}

impl std::error::Error for PlacementError {}

/// The cores the calling thread may run on, in ascending order. A thread
/// that pinned itself sees only its own core; ask before pinning.
pub fn available_cores() -> Vec<usize> {
    let mut cores: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    cores.sort_unstable();
    cores
}

/// Resolves `config` for a pipeline of `stages`, given the cores available.
pub fn resolve(
    config: &PipelineConfig,
    stages: &[&str],
    available: &[usize],
) -> Result<Plan, PlacementError> {
    let n = stages.len();
    if n == 0 {
        return Err(PlacementError::NoStages);
    }
    for (i, name) in stages.iter().enumerate() {
        if stages[..i].contains(name) {
            return Err(PlacementError::DuplicateStageName((*name).to_owned()));
        }
    }
    if !(2..=1 << 30).contains(&config.ring_capacity) {
        return Err(PlacementError::BadRingCapacity(config.ring_capacity));
    }
    let groups_given = !config.groups.is_empty();
    if groups_given != (config.placement == PlacementMode::Groups) {
        return Err(PlacementError::GroupsMismatch(config.placement));
    }
    let mut cores: Vec<usize> = config.cores.clone().unwrap_or_else(|| available.to_vec());
    cores.sort_unstable();
    cores.dedup();
    let pin = config.pin && !cores.is_empty();
    let core_at = |k: usize| if pin { cores.get(k).copied() } else { None };
    let single = |name: &str, range: Range<usize>, core: Option<usize>| ThreadPlan {
        name: name.to_owned(),
        stages: range,
        core,
    };

    let threads: Vec<ThreadPlan> = match config.placement {
        PlacementMode::Fused => {
            vec![single(
                "pipeline",
                0..n,
                if cores.len() >= 2 { core_at(1) } else { None },
            )]
        }
        PlacementMode::OnePerStage => {
            if pin && cores.len() < n + 1 {
                return Err(PlacementError::NotEnoughCores {
                    needed: n + 1,
                    available: cores.len(),
                });
            }
            (0..n)
                .map(|i| single(stages[i], i..i + 1, core_at(i + 1)))
                .collect()
        }
        PlacementMode::Auto => {
            let workers = n.min(cores.len().saturating_sub(1)).max(1);
            let mut plan = Vec::with_capacity(workers);
            let mut start = 0;
            for k in 0..workers {
                let len = n / workers + usize::from(k < n % workers);
                let name = if len == 1 {
                    stages[start].to_owned()
                } else {
                    format!("{}..{}", stages[start], stages[start + len - 1])
                };
                let core = if cores.len() >= 2 {
                    core_at(k + 1)
                } else {
                    None
                };
                plan.push(ThreadPlan {
                    name,
                    stages: start..start + len,
                    core,
                });
                start += len;
            }
            plan
        }
        PlacementMode::Groups => groups_plan(config, stages, &cores)?,
    };
    for (i, t) in threads.iter().enumerate() {
        if let Some(core) = t.core
            && let Some(other) = threads[..i].iter().find(|o| o.core == Some(core))
        {
            return Err(PlacementError::CoreShared {
                core,
                first: other.name.clone(),
                second: t.name.clone(),
            });
        }
    }
    let wait = config.wait.unwrap_or_else(|| {
        // Busy-spin only when every stage thread has its own core and one
        // more core is left for the feeding thread and the OS.
        let dedicated = threads.iter().all(|t| t.core.is_some()) && cores.len() > threads.len() + 1;
        if dedicated {
            WaitStrategy::BusySpin
        } else {
            WaitStrategy::SpinYield
        }
    });
    Ok(Plan { threads, wait })
}

fn groups_plan(
    config: &PipelineConfig,
    stages: &[&str],
    cores: &[usize],
) -> Result<Vec<ThreadPlan>, PlacementError> {
    let mut next = 0;
    let mut plan = Vec::with_capacity(config.groups.len());
    for group in &config.groups {
        if group.stages.is_empty() {
            return Err(PlacementError::EmptyGroup(group.name.clone()));
        }
        let start = next;
        for stage in &group.stages {
            if !stages.contains(&stage.as_str()) {
                return Err(PlacementError::UnknownStage {
                    group: group.name.clone(),
                    stage: stage.clone(),
                });
            }
            match stages.get(next) {
                Some(&expected) if expected == stage => next += 1,
                Some(&expected) => {
                    return Err(PlacementError::OutOfOrder {
                        group: group.name.clone(),
                        expected: expected.to_owned(),
                        found: stage.clone(),
                    });
                }
                None => {
                    return Err(PlacementError::OutOfOrder {
                        group: group.name.clone(),
                        expected: "(no more stages)".to_owned(),
                        found: stage.clone(),
                    });
                }
            }
        }
        let core = match group.core {
            Some(core) if config.pin => {
                if !cores.contains(&core) {
                    return Err(PlacementError::CoreUnavailable {
                        group: group.name.clone(),
                        core,
                        available: cores.to_vec(),
                    });
                }
                Some(core)
            }
            _ => None,
        };
        plan.push(ThreadPlan {
            name: group.name.clone(),
            stages: start..next,
            core,
        });
    }
    if next < stages.len() {
        return Err(PlacementError::Uncovered(
            stages[next..].iter().map(|s| (*s).to_owned()).collect(),
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests;
