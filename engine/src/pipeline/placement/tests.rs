use super::*;

const STAGES: [&str; 4] = ["feed", "book", "strategy", "gateway"];

fn plan(config: &PipelineConfig, cores: &[usize]) -> Result<Plan, PlacementError> {
    resolve(config, &STAGES, cores)
}

fn layout(plan: &Plan) -> Vec<(Range<usize>, Option<usize>)> {
    plan.threads
        .iter()
        .map(|t| (t.stages.clone(), t.core))
        .collect()
}

#[test]
fn auto_on_two_cores_fuses_everything_on_the_second() {
    let p = plan(&PipelineConfig::default(), &[0, 1]).unwrap();
    assert_eq!(layout(&p), vec![(0..4, Some(1))]);
    assert_eq!(p.wait, WaitStrategy::SpinYield);
}

#[test]
fn auto_on_one_core_runs_unpinned() {
    let p = plan(&PipelineConfig::default(), &[0]).unwrap();
    assert_eq!(layout(&p), vec![(0..4, None)]);
}

#[test]
fn auto_splits_stages_over_spare_cores() {
    let p = plan(&PipelineConfig::default(), &[0, 1, 2]).unwrap();
    assert_eq!(layout(&p), vec![(0..2, Some(1)), (2..4, Some(2))]);
    let p = plan(&PipelineConfig::default(), &[0, 1, 2, 3]).unwrap();
    assert_eq!(
        layout(&p),
        vec![(0..2, Some(1)), (2..3, Some(2)), (3..4, Some(3))]
    );
    let p = plan(&PipelineConfig::default(), &[0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    assert_eq!(
        layout(&p),
        vec![
            (0..1, Some(1)),
            (1..2, Some(2)),
            (2..3, Some(3)),
            (3..4, Some(4))
        ]
    );
    assert_eq!(p.wait, WaitStrategy::BusySpin);
}

#[test]
fn configured_cores_restrict_auto() {
    let config = PipelineConfig {
        cores: Some(vec![6, 4, 5]),
        ..PipelineConfig::default()
    };
    let p = plan(&config, &[0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    assert_eq!(layout(&p), vec![(0..2, Some(5)), (2..4, Some(6))]);
}

#[test]
fn one_per_stage_needs_cores_when_pinned() {
    let config = PipelineConfig {
        placement: PlacementMode::OnePerStage,
        ..PipelineConfig::default()
    };
    assert_eq!(
        plan(&config, &[0, 1]),
        Err(PlacementError::NotEnoughCores {
            needed: 5,
            available: 2
        })
    );
    let unpinned = PipelineConfig {
        pin: false,
        ..config
    };
    let p = plan(&unpinned, &[0, 1]).unwrap();
    assert_eq!(p.threads.len(), 4);
    assert!(p.threads.iter().all(|t| t.core.is_none()));
}

fn groups(spec: &[(&str, &[&str], Option<usize>)]) -> PipelineConfig {
    PipelineConfig {
        placement: PlacementMode::Groups,
        groups: spec
            .iter()
            .map(|(name, stages, core)| GroupSpec {
                name: (*name).to_owned(),
                stages: stages.iter().map(|s| (*s).to_owned()).collect(),
                core: *core,
            })
            .collect(),
        ..PipelineConfig::default()
    }
}

#[test]
fn groups_are_checked() {
    let ok = groups(&[
        ("md", &["feed", "book"], Some(1)),
        ("trade", &["strategy", "gateway"], None),
    ]);
    assert_eq!(
        layout(&plan(&ok, &[0, 1]).unwrap()),
        vec![(0..2, Some(1)), (2..4, None)]
    );

    let unknown = groups(&[("md", &["feed", "bok"], None)]);
    assert!(
        plan(&unknown, &[0, 1])
            .unwrap_err()
            .to_string()
            .contains("\"bok\"")
    );
    let order = groups(&[
        ("md", &["book", "feed"], None),
        ("rest", &["strategy", "gateway"], None),
    ]);
    assert!(matches!(
        plan(&order, &[0, 1]),
        Err(PlacementError::OutOfOrder { .. })
    ));
    let missing = groups(&[("md", &["feed", "book"], None)]);
    assert_eq!(
        plan(&missing, &[0, 1]),
        Err(PlacementError::Uncovered(vec![
            "strategy".into(),
            "gateway".into()
        ]))
    );
    let bad_core = groups(&[("all", &STAGES, Some(7))]);
    assert!(
        plan(&bad_core, &[0, 1])
            .unwrap_err()
            .to_string()
            .contains("core 7")
    );
    let shared = groups(&[
        ("a", &["feed", "book"], Some(1)),
        ("b", &["strategy", "gateway"], Some(1)),
    ]);
    assert!(matches!(
        plan(&shared, &[0, 1]),
        Err(PlacementError::CoreShared { core: 1, .. })
    ));
    let stray = PipelineConfig {
        placement: PlacementMode::Auto,
        ..ok
    };
    assert!(matches!(
        plan(&stray, &[0, 1]),
        Err(PlacementError::GroupsMismatch(PlacementMode::Auto))
    ));
}

#[test]
fn config_loads_from_toml_with_line_numbers() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        pipeline: PipelineConfig,
    }
    let text = "[pipeline]\nplacement = \"groups\"\nwait = \"park\"\n[[pipeline.group]]\nname = \"all\"\nstages = [\"feed\", \"book\", \"strategy\", \"gateway\"]\ncore = 1\n";
    let file: File = crate::config::from_toml(text, "engine.toml").unwrap();
    assert_eq!(file.pipeline.wait, Some(WaitStrategy::Park));
    assert_eq!(
        layout(&plan(&file.pipeline, &[0, 1]).unwrap()),
        vec![(0..4, Some(1))]
    );

    let err = crate::config::from_toml::<File>("[pipeline]\nwait = \"sleepy\"\n", "engine.toml")
        .unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(
        err.message.contains("sleepy") || err.message.contains("variant"),
        "{err}"
    );
}

#[test]
fn stage_names_and_capacity_are_checked() {
    assert_eq!(
        resolve(&PipelineConfig::default(), &["a", "a"], &[0, 1]),
        Err(PlacementError::DuplicateStageName("a".into()))
    );
    assert_eq!(
        resolve(&PipelineConfig::default(), &[], &[0, 1]),
        Err(PlacementError::NoStages)
    );
    let tiny = PipelineConfig {
        ring_capacity: 1,
        ..PipelineConfig::default()
    };
    assert_eq!(
        plan(&tiny, &[0, 1]),
        Err(PlacementError::BadRingCapacity(1))
    );
}
