//! Loopback servers for the `net_*` tests: a real TLS (or plain) WebSocket
//! server from tokio + tokio-rustls + tokio-tungstenite, with a certificate
//! from a fresh rcgen CA written to a temp dir, and a raw TCP server that
//! writes whatever bytes a malformed-frame test needs.
#![allow(dead_code, unreachable_pub)]

use pt_net::{NetError, PollOutcome, WsClient, WsConfig, WsMessage, tls};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub type Stream = Box<dyn Io>;
pub type Ws = tokio_tungstenite::WebSocketStream<Stream>;

/// A CA (PEM written to `ca_file`) and a server config for localhost/127.0.0.1.
pub struct Identity {
    pub ca_file: PathBuf,
    pub server: Arc<rustls::ServerConfig>,
}

static DIRS: AtomicUsize = AtomicUsize::new(0);

pub fn identity() -> Identity {
    identity_with(
        rustls::crypto::ring::default_provider(),
        rustls::DEFAULT_VERSIONS,
    )
}

/// The same with the server limited to `provider`'s cipher suites and to
/// `versions`.
pub fn identity_with(
    provider: rustls::crypto::CryptoProvider,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Identity {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    let n = DIRS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("pt-net-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    Identity {
        ca_file,
        server: Arc::new(server),
    }
}

/// A server on 127.0.0.1 running `handler` for each accepted connection.
pub struct Server {
    pub port: u16,
    pub ca_file: Option<PathBuf>,
    _runtime: tokio::runtime::Runtime,
}

pub fn serve<F, Fut>(identity: Option<&Identity>, handler: F) -> Server
where
    F: Fn(Stream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let acceptor = identity.map(|id| tokio_rustls::TlsAcceptor::from(Arc::clone(&id.server)));
    let handler = Arc::new(handler);
    listen(identity, move |tcp| {
        let acceptor = acceptor.clone();
        let handler = Arc::clone(&handler);
        async move {
            let stream: Stream = match acceptor {
                Some(acceptor) => match acceptor.accept(tcp).await {
                    Ok(tls) => Box::new(tls),
                    Err(_) => return,
                },
                None => Box::new(tcp),
            };
            handler(stream).await;
        }
    })
}

/// The rustls server stream, for handlers that drive TLS itself (key
/// updates, resumption checks).
pub type TlsStream = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;

/// A TLS server whose handler gets the rustls stream itself.
pub fn serve_tls<F, Fut>(identity: &Identity, handler: F) -> Server
where
    F: Fn(TlsStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&identity.server));
    let handler = Arc::new(handler);
    listen(Some(identity), move |tcp| {
        let acceptor = acceptor.clone();
        let handler = Arc::clone(&handler);
        async move {
            if let Ok(tls) = acceptor.accept(tcp).await {
                handler(tls).await;
            }
        }
    })
}

/// Accepts on 127.0.0.1 and runs `on_accept` for each connection.
fn listen<F, Fut>(identity: Option<&Identity>, on_accept: F) -> Server
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let port = std_listener.local_addr().unwrap().port();
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            tokio::spawn(on_accept(tcp));
        }
    });
    Server {
        port,
        ca_file: identity.map(|id| id.ca_file.clone()),
        _runtime: runtime,
    }
}

pub async fn accept(stream: Stream) -> Ws {
    tokio_tungstenite::accept_async(stream).await.unwrap()
}

/// A plain TCP server that reads the upgrade request, answers 101 with the
/// right accept key, then writes `frames` verbatim and holds the connection.
pub fn raw_server(frames: Vec<u8>) -> Server {
    let frames = Arc::new(frames);
    serve(None, move |mut stream: Stream| {
        let frames = Arc::clone(&frames);
        async move {
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let key = text
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .unwrap()
                .trim()
                .to_owned();
            let accept = pt_net::http::accept_key(&key);
            let head = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&frames).await;
            let _ = stream.read(&mut buf).await;
        }
    })
}

pub fn config(server: &Server, max_message: usize) -> WsConfig {
    let mut cfg = WsConfig::new("127.0.0.1", server.port, "/ws");
    cfg.max_message = max_message;
    cfg.tls = server
        .ca_file
        .as_ref()
        .map(|path| tls::client_config_from_ca_file(path).unwrap());
    cfg
}

const DEADLINE: Duration = Duration::from_secs(10);

/// A message as the tests keep it: (is_text, payload).
pub type Msg = (bool, Vec<u8>);

fn keep(got: &mut Vec<Msg>) -> impl FnMut(WsMessage<'_>) + '_ {
    |m| got.push((matches!(m, WsMessage::Text(_)), m.payload().to_vec()))
}

/// An open client and the messages received so far.
pub struct Conn {
    pub client: WsClient,
    pub got: Vec<Msg>,
}

/// Polls until the connection opens, keeping messages that arrive with it.
pub fn open(cfg: &WsConfig) -> Conn {
    let mut client = WsClient::connect(cfg).unwrap();
    let mut got = Vec::new();
    let start = Instant::now();
    loop {
        let outcome = client.poll(Some(Duration::from_millis(50)), &mut keep(&mut got));
        match outcome {
            Ok(PollOutcome::Opened) => return Conn { client, got },
            Ok(PollOutcome::Connecting) => {}
            other => panic!("while opening: {other:?}"),
        }
        assert!(start.elapsed() < DEADLINE, "open timed out");
    }
}

impl Conn {
    /// Polls until `n` messages in all have arrived.
    pub fn collect(&mut self, n: usize) -> Result<&[Msg], NetError> {
        let start = Instant::now();
        while self.got.len() < n {
            let outcome = self
                .client
                .poll(Some(Duration::from_millis(20)), &mut keep(&mut self.got))?;
            assert!(
                !matches!(outcome, PollOutcome::Closed { .. }),
                "{outcome:?}"
            );
            assert!(
                start.elapsed() < DEADLINE,
                "collect timed out at {}",
                self.got.len()
            );
        }
        Ok(&self.got)
    }

    /// Polls until the connection closes or fails.
    pub fn until_end(&mut self) -> Result<PollOutcome, NetError> {
        until_end(&mut self.client, &mut self.got)
    }
}

fn until_end(client: &mut WsClient, got: &mut Vec<Msg>) -> Result<PollOutcome, NetError> {
    let start = Instant::now();
    loop {
        let outcome = client.poll(Some(Duration::from_millis(20)), &mut keep(got))?;
        if let PollOutcome::Closed { .. } = outcome {
            return Ok(outcome);
        }
        assert!(start.elapsed() < DEADLINE, "until_end timed out");
    }
}

/// Connects and polls until the connection closes or fails (the upgrade
/// may or may not complete first).
pub fn run_to_end(cfg: &WsConfig) -> (Vec<Msg>, Result<PollOutcome, NetError>) {
    let mut got = Vec::new();
    let result = WsClient::connect(cfg).and_then(|mut client| until_end(&mut client, &mut got));
    (got, result)
}

/// Connects and polls until an error (panics on success or after the deadline).
pub fn connect_error(cfg: &WsConfig) -> NetError {
    match run_to_end(cfg) {
        (_, Err(e)) => e,
        (_, Ok(outcome)) => panic!("expected an error, got {outcome:?}"),
    }
}

/// An HTTP/1.1 keep-alive server (hyper) echoing each request: status from
/// an `x-status` header (200 by default), body `<METHOD> <path> <len>\n`
/// followed by the request body; chunked when the request carries
/// `x-chunked`, `Connection: close` when it carries `x-close`. Counts the
/// connections it accepted.
pub fn http_server(identity: Option<&Identity>) -> (Server, Arc<AtomicUsize>) {
    use http_body_util::BodyExt as _;
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let server = serve(identity, move |stream| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let service = hyper::service::service_fn(
                |req: hyper::Request<hyper::body::Incoming>| async move {
                    let status: u16 = req
                        .headers()
                        .get("x-status")
                        .and_then(|v| v.to_str().ok()?.parse().ok())
                        .unwrap_or(200);
                    let chunked = req.headers().contains_key("x-chunked");
                    let close = req.headers().contains_key("x-close");
                    let head = format!("{} {}", req.method(), req.uri().path());
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let mut out = format!("{head} {}\n", body.len()).into_bytes();
                    out.extend_from_slice(&body);
                    let out = hyper::body::Bytes::from(out);
                    let body: http_body_util::combinators::BoxBody<
                        hyper::body::Bytes,
                        std::convert::Infallible,
                    > = if chunked {
                        let half = out.len() / 2;
                        let parts = vec![
                            Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(
                                out.slice(..half),
                            )),
                            Ok(hyper::body::Frame::data(out.slice(half..))),
                        ];
                        http_body_util::StreamBody::new(futures_util::stream::iter(parts)).boxed()
                    } else {
                        http_body_util::Full::new(out).boxed()
                    };
                    let mut resp = hyper::Response::builder().status(status);
                    if close {
                        resp = resp.header("connection", "close");
                    }
                    Ok::<_, std::convert::Infallible>(resp.body(body).unwrap())
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        }
    });
    (server, connections)
}
