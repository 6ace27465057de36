//! The Kalshi market-data connection: a [`Session`] on a [`WsClient`],
//! reconnecting with jittered exponential backoff.
//!
//! Each connection signs its upgrade afresh (`GET /trade-api/ws/v2`, see
//! [`pt_net::auth`]); the signing key never leaves the [`Signer`]. A lost or
//! refused connection makes every book stale (the session emits the gap
//! events) and the next attempt waits out the backoff; an open connection
//! resets it. One thread calls [`KalshiFeed::poll`] in a loop: no locks, and
//! no allocation per message once connected (connecting does allocate).

use super::session::{Session, SessionConfig, SessionConfigError, SessionCounters};
use pt_engine::model::{InstrumentId, MarketEvent, Nanos};
use pt_net::auth::{Signer, WS_PATH, now_ms};
use pt_net::tls::ClientConfig;
use pt_net::{Backoff, Jitter, NetError, PollOutcome, WsClient, WsConfig, WsMessage};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where to connect and what to follow.
#[derive(Clone, Debug)]
pub struct FeedConfig {
    /// Host name or address of the WebSocket endpoint.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// TLS settings (`None` for plain `ws://`, local tests only).
    pub tls: Option<Arc<ClientConfig>>,
    /// Signs the upgrade; `None` sends no authentication headers.
    pub signer: Option<Arc<Signer>>,
    /// Markets and channels.
    pub session: SessionConfig,
    /// First reconnect delay.
    pub backoff_base: Duration,
    /// Longest reconnect delay.
    pub backoff_cap: Duration,
    /// Give up on a connection attempt that has not opened after this long.
    pub connect_timeout: Duration,
}

impl FeedConfig {
    /// Defaults: 100 ms first retry, 10 s at most, 5 s to connect.
    pub fn new(host: &str, port: u16, session: SessionConfig) -> FeedConfig {
        FeedConfig {
            host: host.to_owned(),
            port,
            tls: None,
            signer: None,
            session,
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Connection-level counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedCounters {
    /// Connection attempts started.
    pub attempts: u64,
    /// Connections that opened.
    pub opened: u64,
    /// Attempts or connections that failed.
    pub failures: u64,
}

/// The connection and its session; see the module docs.
#[derive(Debug)]
pub struct KalshiFeed {
    config: FeedConfig,
    session: Session,
    client: Option<WsClient>,
    started: Instant,
    opened: bool,
    retry_at: Option<Instant>,
    backoff: Backoff,
    counters: FeedCounters,
    last_error: Option<NetError>,
}

impl KalshiFeed {
    /// A feed that connects on its first [`KalshiFeed::poll`].
    pub fn new(config: FeedConfig) -> Result<KalshiFeed, SessionConfigError> {
        let session = Session::new(config.session.clone())?;
        let seed = now_ms() as u64;
        Ok(KalshiFeed {
            backoff: Backoff::new(config.backoff_base, config.backoff_cap, Jitter::Full, seed),
            config,
            session,
            client: None,
            started: Instant::now(),
            opened: false,
            retry_at: None,
            counters: FeedCounters::default(),
            last_error: None,
        })
    }

    /// The session (its counters, whether every book is whole).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Session counters.
    pub fn session_counters(&self) -> SessionCounters {
        self.session.counters()
    }

    /// Connection counters.
    pub fn counters(&self) -> FeedCounters {
        self.counters
    }

    /// Why the last connection failed, if one did.
    pub fn last_error(&self) -> Option<&NetError> {
        self.last_error.as_ref()
    }

    /// The book stage found `instrument`'s book inconsistent (its update
    /// carried `book_flags::RESYNC`, see [`crate::market_data`]): marks it
    /// stale and asks
    /// the venue for a fresh snapshot of it, sent at the next
    /// [`KalshiFeed::poll`]. See [`Session::resync`].
    pub fn resync(&mut self, instrument: InstrumentId, emit: &mut dyn FnMut(MarketEvent)) -> bool {
        self.session.resync(instrument, Nanos::now(), emit)
    }

    /// Whether a connection is open.
    pub fn is_open(&self) -> bool {
        self.opened
    }

    fn ws_config(&self) -> WsConfig {
        let mut ws = WsConfig::new(&self.config.host, self.config.port, WS_PATH);
        ws.tls = self.config.tls.clone();
        if let Some(signer) = &self.config.signer {
            let headers = signer.headers(now_ms(), "GET", WS_PATH);
            ws.extra_headers = headers
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect();
        }
        ws
    }

    /// Waits up to `timeout` for the network, then handles everything that
    /// arrived: market events go to `emit`, in order.
    pub fn poll(&mut self, timeout: Duration, emit: &mut dyn FnMut(MarketEvent)) {
        let now = Instant::now();
        if self.client.is_none() {
            if let Some(at) = self.retry_at
                && at > now
            {
                std::thread::sleep((at - now).min(timeout));
                return;
            }
            self.counters.attempts += 1;
            match WsClient::connect(&self.ws_config()) {
                Ok(c) => {
                    self.client = Some(c);
                    self.started = now;
                    self.opened = false;
                }
                Err(e) => {
                    self.fail(e, emit);
                    return;
                }
            }
        }
        let Some(client) = self.client.as_mut() else {
            return;
        };
        let session = &mut self.session;
        let mut on_msg = |m: WsMessage<'_>| {
            if let WsMessage::Text(frame) = m {
                session.on_frame(frame, Nanos::now(), emit);
            }
        };
        let outcome = client.poll(Some(timeout), &mut on_msg);
        match outcome {
            Ok(PollOutcome::Opened) => {
                self.opened = true;
                self.counters.opened += 1;
                self.backoff.reset();
                self.session.on_open();
            }
            Ok(PollOutcome::Connecting) if now - self.started > self.config.connect_timeout => {
                let e = NetError::Handshake("the connection did not open in time");
                self.fail(e, emit);
                return;
            }
            Ok(PollOutcome::Connecting | PollOutcome::Messages(_)) => {}
            Ok(PollOutcome::Closed { .. }) => {
                self.fail(NetError::Closed, emit);
                return;
            }
            Err(e) => {
                self.fail(e, emit);
                return;
            }
        }
        let mut send_error = None;
        if let Some(client) = self.client.as_mut() {
            self.session.drain_commands(&mut |cmd| {
                if send_error.is_none()
                    && let Err(e) = client.send_text(cmd)
                {
                    send_error = Some(e);
                }
            });
        }
        if let Some(e) = send_error {
            self.fail(e, emit);
        }
    }

    fn fail(&mut self, e: NetError, emit: &mut dyn FnMut(MarketEvent)) {
        self.counters.failures += 1;
        self.last_error = Some(e);
        self.client = None;
        self.opened = false;
        self.session.on_disconnect(Nanos::now(), emit);
        self.retry_at = Some(Instant::now() + self.backoff.next_delay());
    }
}
