//! The `pt-bench` binary as a user runs it.

use pt_tests::TestDir;
use std::process::{Command, Output};

fn pt_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pt-bench"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the pt-bench binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &TestDir, name: &str, contents: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(&**dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn bench_pipeline_runs_and_reports_every_stage() {
    let out = pt_bench(&[
        "pipeline",
        "--events",
        "20000",
        "--placement",
        "one-per-stage",
        "--no-pin",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("20000 input events"), "{stdout}");
    for stage in ["feed", "book", "strategy", "gateway", "end-to-end"] {
        assert!(stdout.contains(stage), "missing {stage}: {stdout}");
    }
}

#[test]
fn bench_pipeline_reads_placement_from_config() {
    let dir = TestDir::new("pt-bench-config");
    let config = write(
        &dir,
        "engine.toml",
        "[pipeline]\nplacement = \"groups\"\nwait = \"park\"\npin = false\n[[pipeline.group]]\nname = \"md\"\nstages = [\"feed\", \"book\"]\n[[pipeline.group]]\nname = \"trade\"\nstages = [\"strategy\", \"gateway\"]\n",
    );
    let out = pt_bench(&[
        "pipeline",
        "--events",
        "10000",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("pt-md") && stdout.contains("pt-trade") && stdout.contains("wait park"),
        "{stdout}"
    );

    let bad = write(
        &dir,
        "bad.toml",
        "[pipeline]\nplacement = \"groups\"\nwiat = \"park\"\n",
    );
    let out = pt_bench(&["pipeline", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.toml:3:") && stderr.contains("wiat"),
        "{stderr}"
    );
}

#[test]
fn bench_pipeline_refuses_groups_without_config() {
    let out = pt_bench(&["pipeline", "--placement", "groups"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--config"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bench_ring_compares_the_link_with_its_peers() {
    let out = pt_bench(&[
        "ring",
        "--hops",
        "2000",
        "--count",
        "20000",
        "--samples",
        "1",
        "--no-pin",
        "--transports",
        "pt-link,rtrb,std-sync-channel",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("pt-link throughput / raw rtrb"), "{stdout}");
    assert!(
        stdout.contains("best of the peers measured (std-sync-channel)"),
        "{stdout}"
    );
    let out = pt_bench(&["ring", "--transports", "carrier-pigeon"]);
    assert!(
        text(&out.stderr).contains("carrier-pigeon"),
        "{}",
        text(&out.stderr)
    );
}
