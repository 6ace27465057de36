//! `pt sim` as a user runs it: a real process, keys made by `pt sim keygen`,
//! the CA file it writes, signed requests over TLS.

mod support;

use pt_tests::TestDir;
use std::sync::Arc;
use support::client::Client;
use support::process::{pt, start_sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_then_run_then_a_signed_request() {
    let dir = TestDir::new("sim-cli");
    std::fs::create_dir_all(&*dir).expect("test dir");
    let keys = dir.join("keys");
    let private = dir.join("alice.pem");
    let out = pt()
        .args(["sim", "keygen", "alice", "--keys"])
        .arg(&keys)
        .arg("--private-out")
        .arg(&private)
        .output()
        .expect("run keygen");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(keys.join("alice.pub.pem").is_file());
    // Never overwrites a key.
    let again = pt()
        .args(["sim", "keygen", "alice", "--keys"])
        .arg(&keys)
        .arg("--private-out")
        .arg(&private)
        .output()
        .expect("run keygen");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("alice"));

    let ca = dir.join("ca.pem");
    let (_sim, addr) = start_sim(&keys, &ca, 200);
    let ca_pem = std::fs::read_to_string(&ca).expect("the CA file");
    let signer = pt_sim::auth::Signer::from_pem_file("alice", &private).expect("key");
    let client = Client::to(addr, Some(&ca_pem), Some(Arc::new(signer)));
    let (status, body) = client.request("GET", "/portfolio/balance", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["balance_dollars"], "10000.0000");
    let (status, markets) = client.request("GET", "/markets", None).await;
    assert_eq!(status, 200);
    assert_eq!(markets["markets"].as_array().map(Vec::len), Some(4));
    // A client trusting another CA is refused by TLS, not answered.
    let other = pt_sim::tls::make_identity().expect("identity");
    let stranger = Client::to(addr, Some(&other.ca_pem), None);
    let refused =
        tokio::spawn(async move { stranger.request("GET", "/markets", None).await }).await;
    assert!(
        refused.is_err(),
        "the handshake must fail against an untrusted CA"
    );
}

#[test]
fn bad_flags_are_named() {
    let out = pt()
        .args([
            "sim",
            "run",
            "--fault",
            "skip_seq=2",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skip_seq") && err.contains("\"2\""), "{err}");
    let out = pt()
        .args(["sim", "run", "--rate", "2000000"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rate"));
    let help = pt().args(["sim", "run", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--listen",
        "--plain",
        "--keys",
        "--rate",
        "--seed",
        "--fault",
        "--probe",
        "--legacy-fields",
    ] {
        assert!(help.contains(flag), "--help lists {flag}");
    }
}
