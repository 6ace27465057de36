//! `pt sim` as a user runs it: a real process, keys made by `pt sim keygen`,
//! the CA file it writes, signed requests over TLS.

mod support;

use pt_tests::TestDir;
use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use support::client::Client;

fn pt() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pt"));
    c.env_remove("RUST_BACKTRACE");
    c
}

/// Kills the simulator when the test ends, pass or fail.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
    let mut child = Child(
        pt().args([
            "sim",
            "run",
            "--listen",
            "127.0.0.1:0",
            "--rate",
            "200",
            "--keys",
        ])
        .arg(&keys)
        .arg("--ca-out")
        .arg(&ca)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start pt sim run"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.expect("read stdout");
        if let Some(url) = line.trim().strip_prefix("REST") {
            let url = url.trim().trim_start_matches("https://");
            addr = url.split('/').next().and_then(|a| a.parse().ok());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let addr = addr.expect("the REST URL on stdout");
    let ca_pem = std::fs::read_to_string(&ca).expect("the CA file");
    let signer = pt_tools::sim::auth::Signer::from_pem_file("alice", &private).expect("key");
    let client = Client::to(addr, Some(&ca_pem), Some(Arc::new(signer)));
    let (status, body) = client.request("GET", "/portfolio/balance", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["balance_dollars"], "10000.0000");
    let (status, markets) = client.request("GET", "/markets", None).await;
    assert_eq!(status, 200);
    assert_eq!(markets["markets"].as_array().map(Vec::len), Some(4));
    // A client trusting another CA is refused by TLS, not answered.
    let other = pt_tools::sim::tls::make_identity().expect("identity");
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
