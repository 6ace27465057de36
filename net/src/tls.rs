//! rustls client configurations: one trusting a PEM CA file (the local venue
//! simulator), one trusting the Mozilla web roots (real venues).
//!
//! Both use the ring provider explicitly, so the result does not depend on
//! which crypto providers other crates in the build enable.

use super::NetError;
pub use rustls::ClientConfig;
use rustls::RootCertStore;
use std::path::Path;
use std::sync::Arc;

/// A client configuration trusting only the certificates in the PEM file at `path`.
pub fn client_config_from_ca_file(path: &Path) -> Result<Arc<ClientConfig>, NetError> {
    let fail = |what: String| NetError::CaFile {
        path: path.to_owned(),
        what,
    };
    let pem = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    roots_from_pem(&pem, path)
}

/// A client configuration trusting only the certificates in `pem` (a CA
/// held in memory, e.g. the one an in-process simulator made); errors call
/// it `what`.
pub fn client_config_from_ca_pem(pem: &str, what: &Path) -> Result<Arc<ClientConfig>, NetError> {
    roots_from_pem(pem.as_bytes(), what)
}

fn roots_from_pem(pem: &[u8], path: &Path) -> Result<Arc<ClientConfig>, NetError> {
    let fail = |what: String| NetError::CaFile {
        path: path.to_owned(),
        what,
    };
    let mut roots = RootCertStore::empty();
    for (i, cert) in rustls_pemfile::certs(&mut &pem[..]).enumerate() {
        let cert =
            cert.map_err(|e| fail(format!("certificate {} is not valid PEM: {e}", i + 1)))?;
        roots
            .add(cert)
            .map_err(|e| fail(format!("certificate {} rejected: {e}", i + 1)))?;
    }
    if roots.is_empty() {
        return Err(fail("no CERTIFICATE block found".to_owned()));
    }
    build(roots)
}

/// A client configuration trusting the Mozilla root set from `webpki-roots`.
pub fn client_config_web_roots() -> Result<Arc<ClientConfig>, NetError> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    build(roots)
}

fn build(roots: RootCertStore) -> Result<Arc<ClientConfig>, NetError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // After the handshake the transport's own record layer takes the traffic
    // keys from rustls (`net::record`).
    config.enable_secret_extraction = true;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let dir = std::env::temp_dir().join(format!("pt-net-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let err = client_config_from_ca_file(&missing)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing.pem") && err.contains("cannot read"),
            "{err}"
        );
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = client_config_from_ca_file(&empty).unwrap_err().to_string();
        assert!(
            err.contains("empty.pem") && err.contains("no CERTIFICATE"),
            "{err}"
        );
        let bad = dir.join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = client_config_from_ca_file(&bad).unwrap_err().to_string();
        assert!(
            err.contains("bad.pem") && err.contains("certificate 1"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn web_roots_load() {
        assert!(client_config_web_roots().is_ok());
    }
}
