//! Where `pt ctl` connects and whether over TLS, and `pt ctl make-cert`.
//!
//! Without `--addr`, the address is the config's `control.grpc` (an
//! unspecified address such as `0.0.0.0` is reached at loopback). When the
//! config sets `control.tls_cert`, or `--ca` is given, the connection is TLS:
//! `--ca` names the CA to trust (on another host), else the config's
//! certificate chain is trusted as it is (on the engine's host).

use crate::engine::config::EngineConfig;
use anyhow::Context as _;
use pt_control::tls::ClientTls;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// The control service's address, and the TLS to reach it with.
#[derive(Debug)]
pub(super) struct Target {
    pub(super) addr: SocketAddr,
    pub(super) tls: Option<ClientTls>,
}

pub(super) fn target(
    config: &Path,
    addr: Option<SocketAddr>,
    ca: Option<&Path>,
    server_name: Option<&str>,
) -> anyhow::Result<Target> {
    let loaded = if config.exists() {
        Some(EngineConfig::load(config)?)
    } else {
        None
    };
    let addr = match (addr, &loaded) {
        (Some(a), _) => a,
        (None, Some(c)) => {
            let mut a = c.control.grpc;
            if a.ip().is_unspecified() {
                a.set_ip(match a.ip() {
                    IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
                });
            }
            a
        }
        (None, None) => SocketAddr::from(([127, 0, 0, 1], 8681)),
    };
    let trust: Option<PathBuf> = match (ca, loaded.as_ref().and_then(|c| c.control.tls.as_ref())) {
        (Some(ca), _) => Some(ca.to_owned()),
        (None, Some(files)) => Some(files.cert.clone()),
        (None, None) => None,
    };
    let tls = match trust {
        None => None,
        Some(ca) => {
            let name = server_name.map_or_else(|| addr.ip().to_string(), str::to_owned);
            Some(ClientTls::new(&ca, &name).with_context(|| {
                format!(
                    "the control service's TLS (trusting {}); pass --ca FILE with its CA certificate",
                    ca.display()
                )
            })?)
        }
    };
    Ok(Target { addr, tls })
}

#[derive(Debug, clap::Args)]
pub(crate) struct MakeCertArgs {
    /// A name or address clients reach the host by (repeatable);
    /// localhost and 127.0.0.1 are always included.
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
    /// Where to write control.crt, control.key (chmod 600) and control-ca.crt.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Replace files already there.
    #[arg(long)]
    force: bool,
}

/// Writes a certificate for the control servers, its key and its CA.
pub(super) fn make_cert(args: &MakeCertArgs) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    for h in &args.hosts {
        if !names.contains(h) {
            names.push(h.clone());
        }
    }
    let made = pt_control::tls::make_cert(&names)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("--out {}: cannot create it", args.out.display()))?;
    let files = [
        ("control.key", made.key_pem.as_str(), 0o600),
        ("control.crt", made.chain_pem.as_str(), 0o644),
        ("control-ca.crt", made.ca_pem.as_str(), 0o644),
    ];
    for (name, _, _) in files {
        let p = args.out.join(name);
        if p.exists() && !args.force {
            anyhow::bail!(
                "{} exists; pass --force to replace it, or --out another folder",
                p.display()
            );
        }
    }
    for (name, text, mode) in files {
        let p = args.out.join(name);
        let _ = std::fs::remove_file(&p);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&p)
            .with_context(|| format!("cannot write {}", p.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    println!(
        "wrote {dir}/control.crt and {dir}/control.key for {}",
        names.join(", "),
        dir = args.out.display()
    );
    println!("  in pt.toml: [control] tls_cert = \"control.crt\", tls_key = \"control.key\"");
    println!(
        "  on another host: pt ctl --addr HOST:PORT --ca control-ca.crt --server-name NAME ..."
    );
    Ok(())
}
