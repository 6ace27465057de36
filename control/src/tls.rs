//! TLS for the control servers and for `pt ctl`.
//!
//! The servers listen on loopback unless the config names another address,
//! and then only with `control.tls_cert` and `control.tls_key`: both the HTTP
//! server and the gRPC service answer TLS alone (no plain-text fallback).
//! Handshakes run in their own tasks, so a client that stalls one holds up
//! no other; one that does not finish within [`HANDSHAKE`] is dropped.
//!
//! [`make_cert`] makes a private CA and a certificate for the given names,
//! for a host without a certificate of its own (`pt ctl make-cert`).

use anyhow::Context as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How long a client has to finish its TLS handshake.
pub const HANDSHAKE: Duration = Duration::from_secs(10);

/// The ALPN protocol of the gRPC service.
pub const ALPN_GRPC: &[u8] = b"h2";
/// The ALPN protocol of the HTTP server.
pub const ALPN_HTTP: &[u8] = b"http/1.1";

/// The control servers' certificate chain and key files (PEM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate, then the certificates that issued it.
    pub cert: PathBuf,
    /// Its private key, readable by its owner only.
    pub key: PathBuf,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates in the PEM file at `path`, for the error messages `key`.
fn certs(key: &str, path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem =
        std::fs::read(path).with_context(|| format!("{key} {}: cannot read", path.display()))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{key} {}: not a PEM certificate file", path.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "{key} {}: expected PEM certificates (-----BEGIN CERTIFICATE-----), found none",
        path.display()
    );
    Ok(certs)
}

/// The private key at `path`, refused when others can read the file.
fn private_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    use std::os::unix::fs::PermissionsExt as _;
    let key = "control.tls_key";
    let mode = std::fs::metadata(path)
        .with_context(|| format!("{key} {}: cannot read", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "{key} {} can be read by others (mode {:03o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    let pem =
        std::fs::read(path).with_context(|| format!("{key} {}: cannot read", path.display()))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .with_context(|| format!("{key} {}: not a PEM key file", path.display()))?
        .with_context(|| {
            format!(
                "{key} {}: expected a PEM private key (-----BEGIN PRIVATE KEY-----), found none",
                path.display()
            )
        })
}

/// A server configuration from `files` offering the protocol `alpn`.
pub fn server_config(files: &TlsFiles, alpn: &[u8]) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let chain = certs("control.tls_cert", &files.cert)?;
    let key = private_key(&files.key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .with_context(|| {
            format!(
                "control.tls_cert {} and control.tls_key {} do not make a certificate and its key",
                files.cert.display(),
                files.key.display()
            )
        })?;
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(Arc::new(config))
}

/// What `pt ctl` needs to reach a TLS control service: whom it trusts and
/// the name the certificate must carry.
#[derive(Clone, Debug)]
pub struct ClientTls {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl ClientTls {
    /// Trusts the certificates in the PEM file `ca` (a CA's, or the
    /// server's whole chain) and expects `name` (a DNS name or an address).
    pub fn new(ca: &Path, name: &str) -> anyhow::Result<ClientTls> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs("the CA file", ca)? {
            roots
                .add(cert)
                .with_context(|| format!("{}: a certificate cannot be trusted", ca.display()))?;
        }
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_GRPC.to_vec()];
        let name = ServerName::try_from(name.to_owned())
            .map_err(|_| anyhow::anyhow!("{name:?}: expected a host name or an IP address"))?;
        Ok(ClientTls {
            config: Arc::new(config),
            name,
        })
    }

    /// The same trust for an HTTP/1.1 client.
    pub fn http(&self) -> Arc<rustls::ClientConfig> {
        let mut config = (*self.config).clone();
        config.alpn_protocols = vec![ALPN_HTTP.to_vec()];
        Arc::new(config)
    }

    /// The name the server's certificate must carry.
    pub fn name(&self) -> &ServerName<'static> {
        &self.name
    }
}

/// A gRPC channel to `addr`, over TLS when `tls` is set.
pub async fn channel(
    addr: SocketAddr,
    tls: Option<ClientTls>,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    let Some(tls) = tls else {
        return tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await;
    };
    let connector = tower::service_fn(move |_: tonic::codegen::http::Uri| {
        let tls = tls.clone();
        async move {
            let tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let stream = tokio_rustls::TlsConnector::from(tls.config)
                .connect(tls.name, tcp)
                .await?;
            Ok::<_, io::Error>(hyper_util::rt::TokioIo::new(stream))
        }
    });
    tonic::transport::Endpoint::from_shared(format!("https://{addr}"))?
        .connect_with_connector(connector)
        .await
}

/// One accepted connection whose handshake is done.
#[derive(Debug)]
pub struct TlsIo {
    stream: tokio_rustls::server::TlsStream<TcpStream>,
    peer: SocketAddr,
    local: SocketAddr,
}

impl AsyncRead for TlsIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

impl tonic::transport::server::Connected for TlsIo {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        tonic::transport::server::TcpConnectInfo {
            local_addr: Some(self.local),
            remote_addr: Some(self.peer),
        }
    }
}

/// A listener whose connections come out with their handshakes done.
#[derive(Debug)]
pub struct TlsListener {
    ready: tokio::sync::mpsc::Receiver<TlsIo>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `listener` in a task of the current runtime; each
    /// handshake runs in a task of its own.
    pub fn spawn(
        listener: tokio::net::TcpListener,
        config: Arc<rustls::ServerConfig>,
    ) -> io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(_) => {
                        // Out of descriptors or the like: wait, as a plain
                        // listener does, rather than spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    let done = tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await;
                    if let Ok(Ok(stream)) = done {
                        let _ = tx
                            .send(TlsIo {
                                stream,
                                peer,
                                local,
                            })
                            .await;
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }

    /// The connections, as the gRPC server takes them.
    pub fn incoming(self) -> impl tokio_stream::Stream<Item = io::Result<TlsIo>> {
        use tokio_stream::StreamExt as _;
        tokio_stream::wrappers::ReceiverStream::new(self.ready).map(Ok)
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TlsIo, SocketAddr) {
        match self.ready.recv().await {
            Some(io) => {
                let peer = io.peer;
                (io, peer)
            }
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// A certificate made by [`make_cert`]: the chain (certificate, then its
/// CA), its key, and the CA alone for clients elsewhere.
#[derive(Debug)]
pub struct MadeCert {
    /// The certificate and the CA's, in PEM: `control.tls_cert`.
    pub chain_pem: String,
    /// The certificate's private key in PEM: `control.tls_key`.
    pub key_pem: String,
    /// The CA's certificate: what `pt ctl --ca` trusts on another host.
    pub ca_pem: String,
}

/// Makes a private CA and a certificate for `names` (host names or
/// addresses); the CA's key is not kept, so it signs nothing else.
pub fn make_cert(names: &[String]) -> anyhow::Result<MadeCert> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    anyhow::ensure!(
        !names.is_empty(),
        "expected at least one host name or address"
    );
    let ca_key = KeyPair::generate().context("cannot generate the CA key")?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "pt control CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key)?;
    let key = KeyPair::generate().context("cannot generate the server key")?;
    let mut params = CertificateParams::new(names.to_vec())
        .with_context(|| format!("{names:?}: expected host names or addresses"))?;
    params
        .distinguished_name
        .push(DnType::CommonName, "pt control");
    let cert = params.signed_by(&key, &ca)?;
    Ok(MadeCert {
        chain_pem: format!("{}{}", cert.pem(), ca.pem()),
        key_pem: key.serialize_pem(),
        ca_pem: ca.pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, made: &MadeCert, key_mode: u32) -> TlsFiles {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::create_dir_all(dir).unwrap();
        let files = TlsFiles {
            cert: dir.join("control.crt"),
            key: dir.join("control.key"),
        };
        std::fs::write(&files.cert, &made.chain_pem).unwrap();
        std::fs::write(&files.key, &made.key_pem).unwrap();
        std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(key_mode)).unwrap();
        files
    }

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pt-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_key_others_can_read_is_refused_naming_the_file_and_the_fix() {
        let dir = temp("mode");
        let files = write(&dir, &make_cert(&["localhost".into()]).unwrap(), 0o644);
        let e = server_config(&files, ALPN_HTTP).unwrap_err().to_string();
        assert!(
            e.contains("control.tls_key") && e.contains("chmod 600"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let dir = temp("pair");
        let a = make_cert(&["localhost".into()]).unwrap();
        let b = make_cert(&["localhost".into()]).unwrap();
        let files = write(&dir, &a, 0o600);
        std::fs::write(&files.key, &b.key_pem).unwrap();
        let e = format!("{:#}", server_config(&files, ALPN_HTTP).unwrap_err());
        assert!(e.contains("do not make a certificate and its key"), "{e}");
        std::fs::write(&files.cert, "not pem").unwrap();
        let e = server_config(&files, ALPN_HTTP).unwrap_err().to_string();
        assert!(
            e.contains("control.tls_cert") && e.contains("found none"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_made_certificate_serves_and_is_verified_by_its_ca_only() {
        let dir = temp("serve");
        let made = make_cert(&["localhost".into(), "127.0.0.1".into()]).unwrap();
        let files = write(&dir, &made, 0o600);
        std::fs::write(dir.join("ca.crt"), &made.ca_pem).unwrap();
        let other = make_cert(&["localhost".into()]).unwrap();
        std::fs::write(dir.join("other.crt"), &other.ca_pem).unwrap();
        let config = server_config(&files, ALPN_HTTP).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let mut listener = TlsListener::spawn(l, config).unwrap();
            let hello = |ca: PathBuf| async move {
                let tls = ClientTls::new(&ca, "127.0.0.1").unwrap();
                let tcp = TcpStream::connect(addr).await.unwrap();
                let mut s = tokio_rustls::TlsConnector::from(tls.http())
                    .connect(tls.name().clone(), tcp)
                    .await?;
                tokio::io::AsyncWriteExt::write_all(&mut s, b"hello").await?;
                tokio::io::AsyncWriteExt::flush(&mut s).await?;
                Ok::<_, io::Error>(s)
            };
            // A client that trusts another CA fails its handshake and is
            // never handed to the server.
            assert!(hello(dir.join("other.crt")).await.is_err());
            let _client = hello(dir.join("ca.crt")).await.unwrap();
            let (mut io, _) = axum::serve::Listener::accept(&mut listener).await;
            let mut got = [0u8; 5];
            tokio::io::AsyncReadExt::read_exact(&mut io, &mut got)
                .await
                .unwrap();
            assert_eq!(&got, b"hello");
            // The whole chain works as the trust too.
            assert!(hello(files.cert.clone()).await.is_ok());
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
