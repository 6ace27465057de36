//! The control servers over TLS, as processes: `pt ctl make-cert` writes a
//! certificate, `pt run` serves HTTP and gRPC over TLS alone with it,
//! `pt ctl` reaches it trusting the config's chain or the CA given with
//! `--ca`, and refuses a server whose certificate another CA signed or that
//! carries another name; plain-text clients get no answer. Off loopback a
//! config without TLS is refused, and a key others can read is too.

mod support;

use pt_tests::TestDir;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use support::http::{get, get_tls};
use support::process::{keygen, pt, start_sim};
use support::run::start_run;

const TOKEN: &str = "tok-tls-view";

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn make_cert(out: &Path, extra: &[&str]) -> Output {
    pt().args(["ctl", "make-cert", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("run pt ctl make-cert")
}

fn check_config(config: &Path) -> Output {
    pt().arg("run")
        .arg("--config")
        .arg(config)
        .arg("--check-config")
        .output()
        .expect("run pt run --check-config")
}

fn ctl(config: &Path, args: &[&str]) -> Output {
    pt().arg("ctl")
        .arg("--config")
        .arg(config)
        .args(args)
        .env("PT_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .output()
        .expect("run pt ctl")
}

#[test]
fn the_control_servers_speak_tls_only_and_pt_ctl_verifies_them() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TestDir::new("control-tls");
    std::fs::create_dir_all(dir.join("keys")).unwrap();

    // make-cert writes the chain, the key (owner only) and the CA, and does
    // not overwrite them unasked.
    let o = make_cert(&dir, &["--host", "pt.example.test"]);
    assert!(o.status.success(), "{}", said(&o));
    assert!(said(&o).contains("pt.example.test"), "{}", said(&o));
    let mode = std::fs::metadata(dir.join("control.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let o = make_cert(&dir, &[]);
    assert!(
        !o.status.success() && said(&o).contains("--force"),
        "{}",
        said(&o)
    );
    // Another CA, for a client that trusts the wrong one.
    std::fs::create_dir_all(dir.join("other")).unwrap();
    assert!(make_cert(&dir.join("other"), &[]).status.success());

    keygen("pt-engine", &dir.join("keys"), &dir.join("engine.pem"));
    let (_sim, sim) = start_sim(&dir.join("keys"), &dir.join("ca.pem"), 200);
    let hash = pt_control::auth::hash_hex(TOKEN);
    let config = dir.join("pt.toml");
    let write = |control: &str| {
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\nmode = \"paper\"\nheartbeat_ms = 50\n\n\
                 [feed]\nport = {}\nca = \"ca.pem\"\nkey_id = \"pt-engine\"\n\
                 key_file = \"engine.pem\"\nmarkets = [\"PTSIM-26DEC31-M000\"]\n\n\
                 [control]\n{control}\n\
                 [[control.token]]\nname = \"watcher\"\nrole = \"viewer\"\nsha256 = \"{hash}\"\n",
                sim.port()
            ),
        )
        .unwrap();
    };

    // Off loopback: refused without TLS, accepted with it.
    write("grpc = \"0.0.0.0:8681\"\n");
    let o = check_config(&config);
    assert!(
        !o.status.success() && said(&o).contains("control.grpc") && said(&o).contains("tls_cert"),
        "{}",
        said(&o)
    );
    write("grpc = \"0.0.0.0:8681\"\ntls_cert = \"control.crt\"\n");
    let o = check_config(&config);
    assert!(
        !o.status.success() && said(&o).contains("control.tls_key is not"),
        "{}",
        said(&o)
    );
    let tls = "tls_cert = \"control.crt\"\ntls_key = \"control.key\"\n";
    write(&format!("grpc = \"0.0.0.0:8681\"\n{tls}"));
    let o = check_config(&config);
    assert!(o.status.success(), "{}", said(&o));
    assert!(said(&o).contains("https://"), "{}", said(&o));
    // A key others can read is refused before anything listens.
    let key = dir.join("control.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = check_config(&config);
    assert!(
        !o.status.success() && said(&o).contains("chmod 600"),
        "{}",
        said(&o)
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Served over TLS (on loopback here: the test's traffic stays on it).
    write(&format!(
        "http = \"127.0.0.1:0\"\ngrpc = \"127.0.0.1:0\"\n{tls}"
    ));
    let run = start_run(&config);
    let trust = pt_control::tls::ClientTls::new(&dir.join("control-ca.crt"), "127.0.0.1").unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some((200, body)) = get_tls(run.addr, "/health", &trust) {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["status"], "ok", "{v}");
            break;
        }
        assert!(
            Instant::now() < until,
            "not healthy over TLS: {:?}; pt run said {:?}",
            get_tls(run.addr, "/health", &trust),
            run.lines.try_iter().collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Plain HTTP gets no answer.
    assert_eq!(get(run.addr, "/health"), None);
    // Nor does HTTPS from a client trusting another CA.
    let wrong =
        pt_control::tls::ClientTls::new(&dir.join("other/control-ca.crt"), "127.0.0.1").unwrap();
    assert_eq!(get_tls(run.addr, "/health", &wrong), None);

    let grpc = run.grpc.to_string();
    // pt ctl trusts the config's chain on this host ...
    let o = ctl(&config, &["--addr", &grpc, "status", "--json"]);
    assert!(o.status.success(), "{}", said(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mode"], "paper", "{v}");
    // ... or the CA it is given, by the certificate's other name too.
    let ca = dir.join("control-ca.crt");
    let ca = ca.to_str().unwrap();
    let elsewhere = [
        "--addr",
        &grpc,
        "--ca",
        ca,
        "--server-name",
        "pt.example.test",
    ];
    let o = ctl(&config, &[&elsewhere[..], &["status"]].concat());
    assert!(o.status.success(), "{}", said(&o));
    // A name the certificate does not carry, or another CA, is refused.
    let o = ctl(
        &config,
        &[
            "--addr",
            &grpc,
            "--ca",
            ca,
            "--server-name",
            "pt.other.test",
            "status",
        ],
    );
    assert!(!o.status.success(), "{}", said(&o));
    assert!(said(&o).contains("cannot reach"), "{}", said(&o));
    let other = dir.join("other/control-ca.crt");
    let o = ctl(
        &config,
        &["--addr", &grpc, "--ca", other.to_str().unwrap(), "status"],
    );
    assert!(!o.status.success(), "{}", said(&o));
    // A plain-text gRPC client gets nothing from the TLS service.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let plain = rt.block_on(async {
        let channel = pt_control::tls::channel(run.grpc, None).await?;
        let mut c = pt_control::pb::control_client::ControlClient::new(channel);
        let mut r = tonic::Request::new(pt_control::pb::StatusRequest {});
        r.metadata_mut()
            .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
        let r = tokio::time::timeout(Duration::from_secs(10), c.status(r)).await;
        Ok::<_, tonic::transport::Error>(matches!(r, Ok(Ok(_))))
    });
    assert!(
        !matches!(plain, Ok(true)),
        "a plain-text Status call was answered"
    );
}
