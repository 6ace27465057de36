//! The simulator's TLS identity: a CA and a `localhost` / `127.0.0.1`
//! certificate signed by it, made fresh at every start. The CA certificate is
//! written where the client's configuration points, so a client verifies the
//! server exactly as it would verify Kalshi (no "insecure" switch).

use anyhow::Context as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use std::path::Path;
use std::sync::Arc;

/// The server's certificate chain and key, plus the CA's PEM for clients.
#[derive(Debug)]
pub struct Identity {
    /// rustls server configuration (HTTP/1.1 only, for the WebSocket upgrade).
    pub server: Arc<rustls::ServerConfig>,
    /// The CA certificate in PEM: what a client trusts.
    pub ca_pem: String,
}

/// Makes a CA and a server certificate for `localhost` and `127.0.0.1`.
pub fn make_identity() -> anyhow::Result<Identity> {
    let ca_key = KeyPair::generate().context("cannot generate the CA key")?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "pt sim local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key)?;

    let leaf_key = KeyPair::generate().context("cannot generate the server key")?;
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "pt sim");
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

    let chain = vec![leaf.der().clone(), ca.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der())
        .map_err(|e| anyhow::anyhow!("server key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Identity {
        server: Arc::new(server),
        ca_pem: ca.pem(),
    })
}

/// Writes the CA certificate to `path` (creating its directory).
pub fn write_ca(path: &Path, pem: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, pem).with_context(|| format!("cannot write {}", path.display()))
}

/// A rustls client configuration trusting only the CA in `ca_pem` (for tests
/// and the bench; the engine's client builds its own the same way).
pub fn client_config(ca_pem: &str) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(cert.context("bad certificate in the CA file")?)?;
    }
    anyhow::ensure!(!roots.is_empty(), "the CA file holds no certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
