//! `pt` as a separate process: the binary under test, and a `pt sim run`
//! that is killed when the test ends.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

/// The `pt` binary under test, without inherited backtrace settings.
pub fn pt() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pt"));
    c.env_remove("RUST_BACKTRACE");
    c
}

/// A child process killed when the test ends, pass or fail.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Makes API key `id` with `pt sim keygen`: its public half into `keys`,
/// its private key (mode 0600) to `private`.
pub fn keygen(id: &str, keys: &Path, private: &Path) {
    let out = pt()
        .args(["sim", "keygen", id, "--keys"])
        .arg(keys)
        .arg("--private-out")
        .arg(private)
        .output()
        .expect("run pt sim keygen");
    assert!(
        out.status.success(),
        "pt sim keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `pt sim run` on a loopback port with the keys in `keys`, writing
/// its CA to `ca`, at `rate` messages/s; returns it once it has said where
/// it listens (read from its REST line).
pub fn start_sim(keys: &Path, ca: &Path, rate: u64) -> (Child, SocketAddr) {
    start_sim_with(keys, ca, rate, &[])
}

/// [`start_sim`] with more `pt sim run` arguments.
pub fn start_sim_with(keys: &Path, ca: &Path, rate: u64, extra: &[&str]) -> (Child, SocketAddr) {
    let mut child = Child(
        pt().args(["sim", "run", "--listen", "127.0.0.1:0", "--rate"])
            .arg(rate.to_string())
            .args(extra)
            .arg("--keys")
            .arg(keys)
            .arg("--ca-out")
            .arg(ca)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start pt sim run"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut addr = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("read stdout");
        if let Some(url) = line.trim().strip_prefix("REST") {
            let url = url.trim().trim_start_matches("https://");
            addr = url.split('/').next().and_then(|a| a.parse().ok());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    (child, addr.expect("the REST address on stdout"))
}
