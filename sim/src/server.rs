//! The simulator's server: the TLS listener, the routes (REST, WebSocket,
//! admin), the market model's task, and start/stop. The state they share
//! is in [`crate::state`].

use crate::auth::KeyStore;
use crate::tls;
use anyhow::Context as _;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

pub use crate::state::{
    Probe, Published, Shared, SimConfig, build_shared, lock, market_specs, now_ms,
};

/// A running simulator.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The CA certificate clients should trust (None with `--plain`).
    pub ca_pem: Option<String>,
    /// Its state.
    pub shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, closes connections and the market model.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Base URL of the REST API (`https://127.0.0.1:PORT/trade-api/v2`).
    pub fn rest_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}/trade-api/v2", self.addr)
    }

    /// URL of the WebSocket API.
    pub fn ws_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}/trade-api/ws/v2", self.addr)
    }
}

/// Starts the simulator on the current tokio runtime.
pub async fn start(config: SimConfig) -> anyhow::Result<Running> {
    let keys = match &config.keys_dir {
        Some(dir) => KeyStore::load_dir(dir)
            .with_context(|| format!("cannot load API keys from {}", dir.display()))?,
        None => KeyStore::empty(),
    };
    start_with_keys(config, keys).await
}

/// Starts the simulator with keys already loaded (tests insert their own).
pub async fn start_with_keys(config: SimConfig, keys: KeyStore) -> anyhow::Result<Running> {
    let identity = if config.plain {
        None
    } else {
        Some(tls::make_identity()?)
    };
    if let (Some(id), Some(path)) = (&identity, &config.ca_out) {
        tls::write_ca(path, &id.ca_pem)?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let shared = build_shared(config, keys);
    let (stop, stop_rx) = watch::channel(false);
    let app = crate::rest::routes()
        .route(crate::rest::WS_PATH, get(crate::ws::upgrade))
        .with_state(shared.clone());
    let acceptor = identity
        .as_ref()
        .map(|id| tokio_rustls::TlsAcceptor::from(id.server.clone()));
    let mut tasks = vec![tokio::spawn(accept_loop(
        listener,
        acceptor,
        app,
        stop_rx.clone(),
    ))];
    if shared.config.rate > 0 {
        tasks.push(tokio::spawn(crate::model::run(shared.clone(), stop_rx)));
    }
    Ok(Running {
        addr,
        ca_pem: identity.map(|id| id.ca_pem),
        shared,
        stop,
        tasks,
    })
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    app: axum::Router,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
            _ = stop.changed() => return,
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let acceptor = acceptor.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper_util::service::TowerToHyperService::new(app);
            let builder = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(acceptor) => {
                    // A failed handshake only ends this connection.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let conn = builder
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .with_upgrades();
                    tokio::select! { _ = conn => {}, _ = stop.changed() => {} }
                }
                None => {
                    let conn = builder
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .with_upgrades();
                    tokio::select! { _ = conn => {}, _ = stop.changed() => {} }
                }
            }
        });
    }
}
