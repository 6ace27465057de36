//! `pt feed` as a user runs it: a real process following the simulator it
//! starts itself, and one following a separate `pt sim run` process with a
//! key made by `pt sim keygen`, over TLS on loopback.

mod support;

use pt_tests::TestDir;
use support::process::{keygen, pt, start_sim};

/// The last status block: its first line and one line per market.
fn last_status(stdout: &str) -> (String, Vec<String>) {
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .rposition(|l| l.contains(" frames "))
        .unwrap_or_else(|| panic!("no status line in:\n{stdout}"));
    let markets = lines[at + 1..]
        .iter()
        .take_while(|l| l.contains(" bid "))
        .map(|l| l.to_string())
        .collect();
    (lines[at].to_owned(), markets)
}

#[test]
fn the_built_in_simulator_is_followed_into_whole_books() {
    let out = pt()
        .args([
            "feed",
            "--seconds",
            "3",
            "--sim-markets",
            "2",
            "--sim-rate",
            "2000",
            "--trades",
        ])
        .output()
        .expect("run pt feed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("simulator on wss://127.0.0.1:"), "{stderr}");
    let (status, markets) = last_status(&stdout);
    assert!(status.contains("open"), "{status}");
    assert!(status.contains("decode errors 0"), "{status}");
    assert!(status.contains("stale 0/2"), "{status}");
    // Trades and tickers followed too: every frame's type is used.
    assert!(status.ends_with("  unknown kinds none"), "{status}");
    let frames: u64 = status
        .split("frames ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("frame count");
    assert!(frames > 1_000, "{status}");
    assert_eq!(markets.len(), 2, "{stdout}");
    for m in &markets {
        assert!(m.contains("PTSIM-26DEC31-M00"), "{m}");
        // Both sides quoted: a price and a size on each.
        assert_eq!(m.matches(" x ").count(), 2, "{m}");
    }
}

/// The count after `name ` in a status line.
fn count(status: &str, name: &str) -> u64 {
    status
        .split(&format!("{name} "))
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name} count in {status}"))
}

#[test]
fn refused_books_resync_fused_and_with_the_feed_and_books_on_threads_of_their_own() {
    for threads in [false, true] {
        let mut cmd = pt();
        cmd.args([
            "feed",
            "--seconds",
            "3",
            "--sim-markets",
            "2",
            "--sim-rate",
            "3000",
        ])
        .args(["--sim-fault", "corrupt_delta=0.01"]);
        if threads {
            cmd.arg("--threads");
        }
        let out = cmd.output().expect("run pt feed");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (status, _) = last_status(&stdout);
        // About 1 in 100 deltas cannot be applied: each is noticed, its
        // market asked for again, and the books come back whole.
        assert!(
            count(&status, "resyncs") >= 5,
            "threads {threads}: {status}"
        );
        assert_eq!(count(&status, "decode errors"), 0, "{status}");
        assert_eq!(count(&status, "gaps"), 0, "{status}");
        // The `ok` answers to its snapshot requests are not passed over.
        assert!(status.ends_with("  unknown kinds none"), "{status}");
        if threads {
            assert!(stdout.contains("feed → book latency, ns:"), "{stdout}");
            assert!(
                stdout.lines().any(|l| l.trim_start().starts_with("book ")),
                "{stdout}"
            );
        }
    }
}

#[test]
fn a_separate_simulator_process_is_followed_with_a_signed_connection() {
    let dir = TestDir::new("feed-cli");
    std::fs::create_dir_all(&*dir).expect("test dir");
    let keys = dir.join("keys");
    let private = dir.join("bob.pem");
    let ca = dir.join("ca.pem");
    keygen("bob", &keys, &private);
    let (_sim, addr) = start_sim(&keys, &ca, 1000);
    let venue = addr.to_string();
    let out = pt()
        .args(["feed", "--venue", &venue, "--ca"])
        .arg(&ca)
        .args(["--key-id", "bob", "--key-file"])
        .arg(&private)
        .args([
            "--markets",
            "PTSIM-26DEC31-M000,PTSIM-26DEC31-M003",
            "--seconds",
            "2",
        ])
        .output()
        .expect("run pt feed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let (status, markets) = last_status(&stdout);
    assert!(
        status.contains("stale 0/2") && status.contains("decode errors 0"),
        "{status}"
    );
    assert!(markets[1].contains("PTSIM-26DEC31-M003"), "{stdout}");
    // The private key never reaches the output.
    let key = std::fs::read_to_string(&private).expect("key");
    let body = key.lines().nth(1).expect("a key line");
    assert!(!stdout.contains(body) && !stderr.contains(body));

    // A wrong key id: the venue refuses the upgrade, and the command says so.
    let out = pt()
        .args(["feed", "--venue", &venue, "--ca"])
        .arg(&ca)
        .args(["--key-id", "mallory", "--key-file"])
        .arg(&private)
        .args(["--markets", "PTSIM-26DEC31-M000", "--seconds", "2"])
        .output()
        .expect("run pt feed");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no frame received from the venue"),
        "{stderr}"
    );
}

/// Runs `pt feed ARGS --seconds 1`, which must fail; its stderr.
fn refused(args: &[&str]) -> String {
    let out = pt()
        .arg("feed")
        .args(args)
        .args(["--seconds", "1"])
        .output()
        .expect("run pt feed");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} should fail: {err}");
    err
}

#[test]
fn bad_arguments_are_named() {
    let err = refused(&["--venue", "nowhere"]);
    assert!(err.contains("--venue") && err.contains("nowhere"), "{err}");
    let err = refused(&["--venue", "127.0.0.1:9"]);
    assert!(err.contains("--markets"), "{err}");
    let err = refused(&[
        "--venue",
        "127.0.0.1:9",
        "--markets",
        "A",
        "--sim-fault",
        "skip_seq=0.1",
    ]);
    assert!(err.contains("--sim-fault"), "{err}");
    let err = refused(&["--sim-fault", "skip_seq=2"]);
    assert!(err.contains("skip_seq") && err.contains("\"2\""), "{err}");
    let err = refused(&["--ca", "x.pem"]);
    assert!(err.contains("--ca"), "{err}");
    let err = refused(&["--venue", "127.0.0.1:9", "--markets", "bad ticker"]);
    assert!(err.contains("bad ticker"), "{err}");
    let err = refused(&["--pin"]);
    assert!(err.contains("--threads"), "{err}");
}
