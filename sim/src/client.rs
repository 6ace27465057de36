//! A client of `pt sim` for tests and benches: signed REST requests and
//! WebSocket sessions over real TLS on loopback, trusting only the CA the
//! simulator wrote. (The engine's venue client is its own, in `pt-feed`.)
//!
//! It is a harness: transport failures (no connection, a failed TLS
//! handshake, a non-JSON frame) panic with what failed, because in a test or
//! a bench that is the result. Protocol outcomes (status codes, error
//! bodies, a closed session) are returned.

use crate::auth::Signer;
use crate::server::Running;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    crate::state::now_ms()
}

/// A client of one running simulator.
pub struct Client {
    addr: SocketAddr,
    tls: Option<TlsConnector>,
    /// Signs private requests (None: send no auth headers).
    pub signer: Option<Arc<Signer>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("addr", &self.addr).finish()
    }
}

/// Either a TLS or a plain TCP stream.
enum Stream {
    Tls(Box<TlsStream<TcpStream>>),
    Plain(TcpStream),
}

impl Client {
    /// A client for `sim` signing with `signer`.
    pub fn new(sim: &Running, signer: Option<Arc<Signer>>) -> Client {
        Client::to(sim.addr, sim.ca_pem.as_deref(), signer)
    }

    /// A client for a simulator at `addr` whose CA is `ca_pem` (None: plain).
    pub fn to(addr: SocketAddr, ca_pem: Option<&str>, signer: Option<Arc<Signer>>) -> Client {
        let tls = ca_pem.map(|pem| {
            TlsConnector::from(crate::tls::client_config(pem).expect("client TLS config"))
        });
        Client { addr, tls, signer }
    }

    async fn connect(&self) -> Stream {
        let tcp = TcpStream::connect(self.addr)
            .await
            .expect("connect to the sim");
        tcp.set_nodelay(true).ok();
        match &self.tls {
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
                Stream::Tls(Box::new(
                    tls.connect(name, tcp).await.expect("TLS handshake"),
                ))
            }
            None => Stream::Plain(tcp),
        }
    }

    /// Sends `method path` (path relative to `/trade-api/v2`, may hold a
    /// query) with an optional JSON body; returns the status and JSON body.
    pub async fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let full = format!("/trade-api/v2{path}");
        self.raw_request(
            method,
            &full,
            body,
            self.signer.as_deref().map(|s| (s, now_ms())),
        )
        .await
    }

    /// Like [`Client::request`] but with the full path and an explicit
    /// signer and timestamp.
    pub async fn raw_request(
        &self,
        method: &str,
        full_path: &str,
        body: Option<&Value>,
        sign: Option<(&Signer, i64)>,
    ) -> (u16, Value) {
        let headers: Vec<(&'static str, String)> = match sign {
            Some((signer, ts)) => signer.headers(ts, method, full_path).to_vec(),
            None => Vec::new(),
        };
        self.request_with_headers(method, full_path, body, &headers)
            .await
    }

    /// Sends a request with exactly these extra headers, on a new connection.
    pub async fn request_with_headers(
        &self,
        method: &str,
        full_path: &str,
        body: Option<&Value>,
        headers: &[(&'static str, String)],
    ) -> (u16, Value) {
        let mut conn = self.keep_alive().await;
        conn.send(build(method, full_path, body, headers)).await
    }

    /// A kept-alive HTTP/1.1 connection, for timing requests without the
    /// TCP and TLS handshakes.
    pub async fn keep_alive(&self) -> HttpConn {
        let sender = match self.connect().await {
            Stream::Tls(s) => handshake(hyper_util::rt::TokioIo::new(s)).await,
            Stream::Plain(s) => handshake(hyper_util::rt::TokioIo::new(s)).await,
        };
        HttpConn {
            sender,
            signer: self.signer.clone(),
        }
    }

    /// Opens a WebSocket session, signed like Kalshi's upgrade.
    pub async fn websocket(&self) -> Result<Ws, String> {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        let url = format!("{scheme}://localhost:{}/trade-api/ws/v2", self.addr.port());
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        if let Some(signer) = &self.signer {
            for (name, value) in signer.headers(now_ms(), "GET", "/trade-api/ws/v2") {
                request
                    .headers_mut()
                    .insert(name, value.parse().map_err(|_| "header".to_owned())?);
            }
        }
        match self.connect().await {
            Stream::Tls(s) => tokio_tungstenite::client_async(request, *s)
                .await
                .map(|(ws, _)| Ws {
                    inner: WsInner::Tls(Box::new(ws)),
                    next_id: 1,
                })
                .map_err(|e| e.to_string()),
            Stream::Plain(s) => tokio_tungstenite::client_async(request, s)
                .await
                .map(|(ws, _)| Ws {
                    inner: WsInner::Plain(Box::new(ws)),
                    next_id: 1,
                })
                .map_err(|e| e.to_string()),
        }
    }
}

async fn handshake<S>(io: hyper_util::rt::TokioIo<S>) -> SendRequest<Full<Bytes>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .expect("HTTP handshake");
    tokio::spawn(conn);
    sender
}

fn build(
    method: &str,
    full_path: &str,
    body: Option<&Value>,
    headers: &[(&'static str, String)],
) -> hyper::Request<Full<Bytes>> {
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(full_path)
        .header("host", "localhost")
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    req.body(Full::new(Bytes::from(bytes)))
        .expect("method, path and headers are valid")
}

/// One kept-alive HTTP/1.1 connection.
pub struct HttpConn {
    sender: SendRequest<Full<Bytes>>,
    signer: Option<Arc<Signer>>,
}

impl std::fmt::Debug for HttpConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConn").finish_non_exhaustive()
    }
}

impl HttpConn {
    /// Sends a request (path relative to `/trade-api/v2`), signed when the
    /// client has a signer; returns the status and JSON body.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let full = format!("/trade-api/v2{path}");
        let headers: Vec<(&'static str, String)> = match &self.signer {
            Some(signer) => signer.headers(now_ms(), method, &full).to_vec(),
            None => Vec::new(),
        };
        self.send(build(method, &full, body, &headers)).await
    }

    /// Sends a request (full path) with these headers, already signed: for
    /// timing the request without the signature's cost (RSA-2048 takes
    /// about a millisecond).
    pub async fn request_with_headers(
        &mut self,
        method: &str,
        full_path: &str,
        body: Option<&Value>,
        headers: &[(&'static str, String)],
    ) -> (u16, Value) {
        self.send(build(method, full_path, body, headers)).await
    }

    async fn send(&mut self, req: hyper::Request<Full<Bytes>>) -> (u16, Value) {
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(req).await.expect("send request");
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }
}

enum WsInner {
    Tls(Box<WebSocketStream<TlsStream<TcpStream>>>),
    Plain(Box<WebSocketStream<TcpStream>>),
}

/// A WebSocket session.
pub struct Ws {
    inner: WsInner,
    next_id: u64,
}

impl std::fmt::Debug for Ws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ws")
            .field("next_id", &self.next_id)
            .finish()
    }
}

/// What reading the next message found.
#[derive(Debug)]
pub enum Read {
    /// A JSON text message.
    Json(Value),
    /// A ping with this payload (answered automatically).
    Ping(Vec<u8>),
    /// The server closed or dropped the connection.
    Closed,
    /// Nothing within the timeout.
    Timeout,
}

async fn next_text(ws: &mut Ws, timeout: Duration) -> Read {
    let fut = async {
        loop {
            let item = match &mut ws.inner {
                WsInner::Tls(s) => s.next().await,
                WsInner::Plain(s) => s.next().await,
            };
            return match item {
                Some(Ok(Message::Text(t))) => {
                    Read::Json(serde_json::from_str(t.as_str()).expect("server sent JSON"))
                }
                Some(Ok(Message::Ping(p))) => Read::Ping(p.to_vec()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Read::Closed,
                Some(Ok(_)) => continue,
            };
        }
    };
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or(Read::Timeout)
}

impl Ws {
    /// Sends a command with the next id; returns the id.
    pub async fn command(&mut self, cmd: &str, params: Option<Value>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut v = serde_json::json!({"id": id, "cmd": cmd});
        if let Some(p) = params {
            v["params"] = p;
        }
        self.send_text(v.to_string()).await;
        id
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: String) {
        let msg = Message::Text(text.into());
        match &mut self.inner {
            WsInner::Tls(s) => s.send(msg).await,
            WsInner::Plain(s) => s.send(msg).await,
        }
        .expect("send to the sim");
    }

    /// The next message, ping, close, or timeout.
    pub async fn read(&mut self, timeout: Duration) -> Read {
        next_text(self, timeout).await
    }

    /// The next JSON message, skipping pings; panics on close or timeout.
    pub async fn json(&mut self) -> Value {
        loop {
            match self.read(Duration::from_secs(10)).await {
                Read::Json(v) => return v,
                Read::Ping(_) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }
}
