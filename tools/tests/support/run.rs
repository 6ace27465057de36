//! `pt run` as a process: started, its addresses read from what it says,
//! and waited on until healthy.

use super::http::{get, get_json};
use super::process::{Child, pt};
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `pt run`, its control server's address, and its stderr lines.
pub struct Run {
    pub child: Child,
    /// The HTTP server.
    pub addr: SocketAddr,
    /// The gRPC service.
    pub grpc: SocketAddr,
    pub lines: mpsc::Receiver<String>,
}

pub fn start_run(config: &Path) -> Run {
    let mut child = Child(
        pt().arg("run")
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pt run"),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(30);
    let mut said = Vec::new();
    let addr: (SocketAddr, SocketAddr) = loop {
        let line = match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(l) => l,
            Err(e) => panic!(
                "pt run did not say where its control server listens ({e}); it said {said:#?}"
            ),
        };
        said.push(line.clone());
        let url = line
            .split("control server http://")
            .nth(1)
            .or_else(|| line.split("control server https://").nth(1));
        if let Some(rest) = url {
            let addr = rest.split(' ').next().unwrap().parse().unwrap();
            let grpc = line
                .split("gRPC ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            break (addr, grpc.parse().unwrap());
        }
    };
    Run {
        child,
        addr: addr.0,
        grpc: addr.1,
        lines: rx,
    }
}

/// Waits until `/health` says ok; returns the engine's pid.
pub fn healthy(run: &Run, within: Duration) -> u32 {
    let until = Instant::now() + within;
    loop {
        if let Some((200, v)) = get_json(run.addr, "/health") {
            assert_eq!(v["status"], "ok", "{v}");
            return v["engine"]["pid"].as_u64().unwrap() as u32;
        }
        assert!(
            Instant::now() < until,
            "not healthy within {within:?}: {:?}; pt run said: {:?}",
            get(run.addr, "/health"),
            run.lines.try_iter().collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
