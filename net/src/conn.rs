//! One WebSocket client connection, driven by [`WsClient::poll`] from one
//! thread: connect → (TLS) → HTTP upgrade → open → closing → closed.
//!
//! Buffers: `rbuf` holds bytes read but not yet decoded (`start..end`);
//! complete frames are decoded in place and messages handed out as slices of
//! it. It grows only to fit the largest frame seen (bounded by `max_message`)
//! and is compacted instead of reallocated. `wbuf` holds encoded frames not
//! yet accepted by the socket (or rustls); it is cleared, not freed, once
//! drained. Nothing else is allocated per message.
//!
//! Timeouts are the caller's: `poll` waits at most `timeout`; a caller that
//! wants a connect deadline stops polling and drops the client.

use super::NetError;
use super::http::{self, UpgradeResponse};
use super::record::TlsStats;
use super::rng::XorShift64;
use super::transport::{Fill, Transport};
use super::ws::{self, Decoded, Frame, MessageReader, Opcode, WsMessage};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use rustls::ClientConfig;
use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::ServerName;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

const SOCKET: Token = Token(0);
/// Initial read buffer: several TLS records, and any sane response head.
const INITIAL_READ: usize = 64 * 1024;
/// How much of a refused upgrade's body is kept for the error.
const BODY_PREFIX: usize = 512;

/// Where and how to connect.
#[derive(Clone)]
pub struct WsConfig {
    /// Host name or IP address (also the TLS server name).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Request path, with query if any (e.g. `/trade-api/ws/v2`).
    pub path: String,
    /// `Some` for `wss://`, `None` for plain `ws://`.
    pub tls: Option<Arc<ClientConfig>>,
    /// Extra request headers, e.g. venue authentication (redacted in `Debug`).
    pub extra_headers: Vec<(String, String)>,
    /// Largest message accepted, in bytes (after reassembly).
    pub max_message: usize,
}

impl WsConfig {
    /// A config with no TLS, no extra headers and a 1 MiB message limit.
    pub fn new(host: &str, port: u16, path: &str) -> WsConfig {
        WsConfig {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            tls: None,
            extra_headers: Vec::new(),
            max_message: 1 << 20,
        }
    }
}

impl fmt::Debug for WsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<String> = self
            .extra_headers
            .iter()
            .map(|(name, _)| format!("{name}: <redacted>"))
            .collect();
        f.debug_struct("WsConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("tls", &self.tls.is_some())
            .field("extra_headers", &headers)
            .field("max_message", &self.max_message)
            .finish()
    }
}

/// What a call to [`WsClient::poll`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// Still connecting, in the TLS handshake or waiting for the upgrade.
    Connecting,
    /// The upgrade completed in this call. Messages that arrived together
    /// with the upgrade response were already passed to `on_msg`.
    Opened,
    /// The connection is open; this many messages were passed to `on_msg`
    /// (0 on timeout).
    Messages(usize),
    /// The close handshake completed (the server's close was answered, or it
    /// answered ours). The client is now unusable.
    Closed {
        /// The server's close code, if it sent one.
        code: Option<u16>,
        /// The server's close reason (lossy UTF-8).
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Upgrading,
    Refused {
        status: u16,
        body_at: usize,
        content_length: Option<usize>,
    },
    Open,
    /// We sent a close and wait for the server's.
    Closing,
    Closed,
}

/// A WebSocket client connection; see the module docs.
pub struct WsClient {
    poll: Poll,
    events: Events,
    transport: Transport,
    phase: Phase,
    host: String,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    addrs: Vec<SocketAddr>,
    next_addr: usize,
    /// The upgrade request, kept to resend when falling back to another address.
    request: Vec<u8>,
    expected_accept: String,
    rbuf: Vec<u8>,
    start: usize,
    end: usize,
    /// Length of the frame being waited for, once its header is known.
    pending_frame: Option<usize>,
    wbuf: Vec<u8>,
    wpos: usize,
    reader: MessageReader,
    rng: XorShift64,
}

impl fmt::Debug for WsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The request (with authentication headers) is deliberately left out.
        f.debug_struct("WsClient")
            .field("host", &self.host)
            .field("phase", &self.phase)
            .field("tls", &self.tls.is_some())
            .field("buffered_read", &(self.end - self.start))
            .field("buffered_write", &(self.wbuf.len() - self.wpos))
            .finish_non_exhaustive()
    }
}

impl WsClient {
    /// Resolves the host (blocking DNS: slow path), starts a non-blocking
    /// connect and queues the upgrade request. Returns without waiting.
    pub fn connect(cfg: &WsConfig) -> Result<WsClient, NetError> {
        let target = Target::resolve(&cfg.host, cfg.port, cfg.tls.as_ref())?;
        WsClient::connect_resolved(cfg, target)
    }

    /// [`WsClient::connect`] to a server resolved before
    /// ([`crate::HttpTarget::resolve`] with the same host, port and TLS):
    /// no DNS, so a reconnect never blocks its thread on it. `cfg`'s path,
    /// headers and message limit apply; its host, port and TLS are the
    /// target's.
    pub fn connect_to(cfg: &WsConfig, target: &crate::HttpTarget) -> Result<WsClient, NetError> {
        WsClient::connect_resolved(cfg, target.target().clone())
    }

    fn connect_resolved(cfg: &WsConfig, target: Target) -> Result<WsClient, NetError> {
        let Target {
            addrs,
            tls,
            host_header,
        } = target;
        let mut rng = XorShift64::from_os();
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce);
        let key = http::base64(&nonce);
        let mut request = Vec::new();
        http::write_upgrade_request(
            &mut request,
            &host_header,
            &cfg.path,
            &key,
            &cfg.extra_headers,
        );
        let poll = Poll::new().map_err(|e| NetError::io("poll create", e))?;
        let mut last_error = NetError::Resolve {
            host: cfg.host.clone(),
            what: "no addresses".to_owned(),
        };
        for (i, addr) in addrs.iter().enumerate() {
            match start_connect(poll.registry(), SOCKET, *addr, tls.as_ref()) {
                Ok(transport) => {
                    return Ok(WsClient {
                        poll,
                        events: Events::with_capacity(4),
                        transport,
                        phase: Phase::Connecting,
                        host: cfg.host.clone(),
                        tls,
                        next_addr: i + 1,
                        addrs,
                        wbuf: {
                            let mut wbuf = Vec::with_capacity(request.len().max(4096));
                            wbuf.extend_from_slice(&request);
                            wbuf
                        },
                        request,
                        expected_accept: http::accept_key(&key),
                        rbuf: vec![0; INITIAL_READ],
                        start: 0,
                        end: 0,
                        pending_frame: None,
                        wpos: 0,
                        reader: MessageReader::new(cfg.max_message),
                        rng,
                    });
                }
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    /// Waits up to `timeout` for readiness (`None`: forever, zero: not at
    /// all), then advances the connection as far as the socket allows: the
    /// handshake, writes, and reading everything available, calling `on_msg`
    /// once per complete text or binary message. Pings are answered and a
    /// server close is answered here. Any error closes the connection.
    pub fn poll(
        &mut self,
        timeout: Option<Duration>,
        on_msg: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<PollOutcome, NetError> {
        if self.phase == Phase::Closed {
            return Err(NetError::Closed);
        }
        if let Err(e) = self.poll.poll(&mut self.events, timeout)
            && e.kind() != std::io::ErrorKind::Interrupted
        {
            return Err(NetError::io("poll", e));
        }
        let result = self.advance(on_msg);
        if let Err(e) = &result {
            self.fail(e);
        }
        result
    }

    /// Queues a text message and writes as much as the socket takes now; the
    /// rest goes out in later `poll` calls.
    pub fn send_text(&mut self, payload: &[u8]) -> Result<(), NetError> {
        self.send(Opcode::Text, payload)
    }

    /// Queues a binary message (see [`Self::send_text`]).
    pub fn send_binary(&mut self, payload: &[u8]) -> Result<(), NetError> {
        self.send(Opcode::Binary, payload)
    }

    /// Queues a ping (payload at most 125 bytes, longer is truncated).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), NetError> {
        let payload = payload.get(..ws::MAX_CONTROL_PAYLOAD).unwrap_or(payload);
        self.send(Opcode::Ping, payload)
    }

    /// Starts the close handshake; `poll` reports `Closed` once the server
    /// answers. Before the upgrade completes, just drops the connection.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), NetError> {
        match self.phase {
            Phase::Open => {
                self.queue_close(Some(code), reason.as_bytes());
                self.phase = Phase::Closing;
                let result = self.flush();
                if let Err(e) = &result {
                    self.fail(e);
                }
                result
            }
            Phase::Closing | Phase::Closed => Ok(()),
            _ => {
                self.transport.shutdown();
                self.phase = Phase::Closed;
                Ok(())
            }
        }
    }

    /// The TLS session's suite and counters (records, key updates, session
    /// tickets), once the TLS handshake is done; `None` over plain TCP.
    pub fn tls_stats(&self) -> Option<TlsStats> {
        self.transport.tls_stats()
    }

    /// True between `Opened` and the start of the close handshake.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    fn send(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), NetError> {
        match self.phase {
            Phase::Open => {}
            Phase::Closing | Phase::Closed => return Err(NetError::Closed),
            _ => return Err(NetError::NotOpen),
        }
        let mask = self.mask_key();
        ws::encode_frame(&mut self.wbuf, opcode, true, mask, payload);
        let result = self.flush();
        if let Err(e) = &result {
            self.fail(e);
        }
        result
    }

    fn mask_key(&mut self) -> [u8; 4] {
        (self.rng.next_u64() as u32).to_ne_bytes()
    }

    fn queue_close(&mut self, code: Option<u16>, reason: &[u8]) {
        let mut payload = [0u8; ws::MAX_CONTROL_PAYLOAD];
        let len = match code {
            None => 0,
            Some(code) => {
                let reason = reason.get(..ws::MAX_CONTROL_PAYLOAD - 2).unwrap_or(reason);
                payload[..2].copy_from_slice(&code.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason);
                2 + reason.len()
            }
        };
        let mask = self.mask_key();
        ws::encode_frame(&mut self.wbuf, Opcode::Close, true, mask, &payload[..len]);
    }

    /// On any error: tell the server why if we can, and stop.
    fn fail(&mut self, error: &NetError) {
        let code = match error {
            NetError::Protocol(_) => Some(1002),
            NetError::MessageTooLarge { .. } => Some(1009),
            _ => None,
        };
        if let (Some(code), Phase::Open) = (code, self.phase) {
            self.queue_close(Some(code), b"");
            let _ = self.flush();
        }
        self.transport.shutdown();
        self.phase = Phase::Closed;
    }

    fn advance(&mut self, on_msg: &mut dyn FnMut(WsMessage<'_>)) -> Result<PollOutcome, NetError> {
        if self.phase == Phase::Connecting && !self.connect_finished()? {
            return Ok(PollOutcome::Connecting);
        }
        self.flush()?;
        let mut opened = false;
        let mut messages = 0;
        loop {
            self.make_room();
            let fill = match self.rbuf.get_mut(self.end..) {
                Some(free) if !free.is_empty() => self.transport.read(free)?,
                // make_room guarantees free space; never spin on a full buffer.
                _ => return Err(NetError::Handshake("read buffer full")),
            };
            if let Fill::Data(n) = fill {
                self.end += n;
            }
            if self.phase == Phase::Upgrading {
                opened = self.check_upgrade(fill)?;
            }
            if let Phase::Refused { .. } = self.phase {
                self.check_refused(fill)?;
            }
            if matches!(self.phase, Phase::Open | Phase::Closing)
                && let Some(outcome) = self.decode_frames(on_msg, &mut messages)?
            {
                return Ok(outcome);
            }
            match fill {
                Fill::Data(_) => {}
                Fill::WouldBlock => break,
                Fill::Eof => return self.on_eof(),
            }
        }
        self.flush()?;
        Ok(match self.phase {
            _ if opened => PollOutcome::Opened,
            Phase::Open | Phase::Closing => PollOutcome::Messages(messages),
            _ => PollOutcome::Connecting,
        })
    }

    fn connect_finished(&mut self) -> Result<bool, NetError> {
        match self.transport.connect_finished() {
            Ok(false) => Ok(false),
            Ok(true) => {
                self.phase = Phase::Upgrading;
                Ok(true)
            }
            Err(e) => {
                // Fall back to the host's next address, if any.
                while let Some(addr) = self.addrs.get(self.next_addr).copied() {
                    self.next_addr += 1;
                    if let Ok(transport) =
                        start_connect(self.poll.registry(), SOCKET, addr, self.tls.as_ref())
                    {
                        self.transport = transport;
                        self.wbuf.clear();
                        self.wbuf.extend_from_slice(&self.request);
                        self.wpos = 0;
                        return Ok(false);
                    }
                }
                Err(e)
            }
        }
    }

    /// Returns true when the upgrade was accepted.
    fn check_upgrade(&mut self, fill: Fill) -> Result<bool, NetError> {
        let head = self.rbuf.get(self.start..self.end).unwrap_or_default();
        match http::parse_upgrade_response(head, &self.expected_accept)? {
            UpgradeResponse::Partial if fill == Fill::Eof => Err(NetError::Handshake(
                "connection closed before the upgrade response",
            )),
            UpgradeResponse::Partial if self.end == self.rbuf.len() => {
                Err(NetError::Handshake("upgrade response head too large"))
            }
            UpgradeResponse::Partial => Ok(false),
            UpgradeResponse::Accepted { head_len } => {
                self.start += head_len;
                self.phase = Phase::Open;
                Ok(true)
            }
            UpgradeResponse::Refused {
                status,
                head_len,
                content_length,
            } => {
                self.phase = Phase::Refused {
                    status,
                    body_at: self.start + head_len,
                    content_length,
                };
                Ok(false)
            }
        }
    }

    /// Waits for enough of a refusal's body to report it, then fails.
    fn check_refused(&mut self, fill: Fill) -> Result<(), NetError> {
        let Phase::Refused {
            status,
            body_at,
            content_length,
        } = self.phase
        else {
            return Ok(());
        };
        let body = self.rbuf.get(body_at..self.end).unwrap_or_default();
        let wanted = content_length.unwrap_or(BODY_PREFIX).min(BODY_PREFIX);
        let have_enough = body.len() >= wanted
            || fill == Fill::Eof
            || (fill == Fill::WouldBlock && content_length.is_none() && !body.is_empty());
        if !have_enough {
            return Ok(());
        }
        let prefix = body.get(..wanted).unwrap_or(body);
        Err(NetError::Http {
            status,
            body_prefix: String::from_utf8_lossy(prefix).into_owned(),
        })
    }

    /// Decodes every complete frame in `rbuf`; returns `Some` on a close.
    fn decode_frames(
        &mut self,
        on_msg: &mut dyn FnMut(WsMessage<'_>),
        messages: &mut usize,
    ) -> Result<Option<PollOutcome>, NetError> {
        loop {
            let buf = self.rbuf.get(self.start..self.end).unwrap_or_default();
            let (consumed, frame) = match self.reader.decode(buf)? {
                Decoded::NeedMore { frame_len } => {
                    self.pending_frame = frame_len;
                    return Ok(None);
                }
                Decoded::Frame { consumed, frame } => (consumed, frame),
            };
            match frame {
                Frame::Message(msg) => {
                    on_msg(msg);
                    *messages += 1;
                }
                Frame::Fragment | Frame::Pong(_) => {}
                Frame::Ping(payload) => {
                    let mask = (self.rng.next_u64() as u32).to_ne_bytes();
                    ws::encode_frame(&mut self.wbuf, Opcode::Pong, true, mask, payload);
                }
                Frame::Close { code, reason } => {
                    let reason = String::from_utf8_lossy(reason).into_owned();
                    self.start += consumed;
                    return self.on_close(code, reason).map(Some);
                }
            }
            self.start += consumed;
        }
    }

    fn on_close(&mut self, code: Option<u16>, reason: String) -> Result<PollOutcome, NetError> {
        if self.phase == Phase::Open {
            // Echo the code, as RFC 6455 §5.5.1 suggests.
            self.queue_close(code, b"");
        }
        let _ = self.flush();
        self.transport.shutdown();
        self.phase = Phase::Closed;
        Ok(PollOutcome::Closed { code, reason })
    }

    fn on_eof(&mut self) -> Result<PollOutcome, NetError> {
        match self.phase {
            // The server dropped the stream instead of answering our close.
            Phase::Closing => self.on_close(None, String::new()),
            Phase::Open => Err(NetError::UnexpectedEof),
            _ => Err(NetError::Handshake(
                "connection closed during the handshake",
            )),
        }
    }

    /// Ensures free space after `end`: reset when empty, compact when the
    /// tail is full, grow only when one frame is larger than the buffer.
    fn make_room(&mut self) {
        if self.start == self.end && !matches!(self.phase, Phase::Refused { .. }) {
            self.start = 0;
            self.end = 0;
        }
        if self.end < self.rbuf.len() {
            return;
        }
        if self.start > 0 && !matches!(self.phase, Phase::Refused { .. }) {
            self.rbuf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.end < self.rbuf.len() {
                return;
            }
        }
        let limit = self.reader.max_message().saturating_add(ws::MAX_HEADER);
        let wanted = self
            .pending_frame
            .unwrap_or(0)
            .max(self.rbuf.len().saturating_mul(2).min(limit))
            .max(self.rbuf.len() + 1);
        self.rbuf.resize(wanted, 0);
    }

    /// Writes queued frames until done or the socket would block.
    fn flush(&mut self) -> Result<(), NetError> {
        loop {
            let pending = self.wbuf.get(self.wpos..).unwrap_or_default();
            let written = if pending.is_empty() {
                0
            } else {
                self.transport.write(pending)?
            };
            self.wpos += written;
            if self.wpos >= self.wbuf.len() {
                self.wbuf.clear();
                self.wpos = 0;
            }
            let drained = self.transport.flush()?;
            if self.wbuf.is_empty() || !drained || written == 0 {
                return Ok(());
            }
        }
    }
}

/// A server resolved once (blocking DNS: before trading), with its TLS
/// name and the `Host` header its requests carry.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) addrs: Vec<SocketAddr>,
    pub(crate) tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    pub(crate) host_header: String,
}

impl Target {
    pub(crate) fn resolve(
        host: &str,
        port: u16,
        tls: Option<&Arc<ClientConfig>>,
    ) -> Result<Target, NetError> {
        let resolve_error = |what: String| NetError::Resolve {
            host: host.to_owned(),
            what,
        };
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| resolve_error(e.to_string()))?
            .collect();
        if addrs.is_empty() {
            return Err(resolve_error("no addresses".to_owned()));
        }
        let tls = match tls {
            None => None,
            Some(config) => {
                let name = ServerName::try_from(host.to_owned())
                    .map_err(|_| resolve_error("not a valid TLS server name".to_owned()))?;
                // The transport takes the traffic keys from rustls after the
                // handshake (see `record`), which rustls allows only when
                // the configuration says so.
                let config = if config.enable_secret_extraction {
                    Arc::clone(config)
                } else {
                    let mut config = ClientConfig::clone(config);
                    config.enable_secret_extraction = true;
                    Arc::new(config)
                };
                Some((config, name))
            }
        };
        let default_port = if tls.is_some() { 443 } else { 80 };
        let host_header = if port == default_port {
            host.to_owned()
        } else {
            format!("{host}:{port}")
        };
        Ok(Target {
            addrs,
            tls,
            host_header,
        })
    }
}

pub(crate) fn start_connect(
    registry: &mio::Registry,
    token: Token,
    addr: SocketAddr,
    tls: Option<&(Arc<ClientConfig>, ServerName<'static>)>,
) -> Result<Transport, NetError> {
    let mut sock = TcpStream::connect(addr).map_err(|e| NetError::io("connect", e))?;
    sock.set_nodelay(true)
        .map_err(|e| NetError::io("set TCP_NODELAY", e))?;
    registry
        .register(&mut sock, token, Interest::READABLE | Interest::WRITABLE)
        .map_err(|e| NetError::io("poll register", e))?;
    let tls = match tls {
        Some((config, name)) => Some(UnbufferedClientConnection::new(
            Arc::clone(config),
            name.clone(),
        )?),
        None => None,
    };
    Ok(Transport::new(sock, tls))
}
