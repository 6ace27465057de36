//! The control plane's threads: the ingest (journals into the store) and
//! the HTTP server (tokio), sharing [`Shared`].

use crate::auth::Token;
use crate::fold::Fold;
use crate::grpc::{Commands, ControlService};
use crate::http::{EngineHealth, Shared, router};
use crate::ingest::Ingest;
use crate::pb::control_server::ControlServer;
use crate::store::Store;
use crate::tls::{TlsFiles, TlsListener};
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the gRPC service needs beside what HTTP has.
pub struct GrpcSetup {
    /// Where it listens (port 0 picks one; see [`ControlPlane::grpc_addr`]).
    pub addr: SocketAddr,
    /// A store connection for the audit rows.
    pub audit: Store,
    /// The engine's command builders.
    pub commands: Arc<dyn Commands>,
    /// Who may call.
    pub tokens: Vec<Token>,
    /// The configured mode.
    pub mode: pt_engine::model::Mode,
}

impl std::fmt::Debug for GrpcSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcSetup")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The running ingest, HTTP server and gRPC service.
#[derive(Debug)]
pub struct ControlPlane {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    ingest: Option<JoinHandle<anyhow::Result<u64>>>,
    http: Option<JoinHandle<()>>,
    http_stop: Option<tokio::sync::watch::Sender<bool>>,
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    /// Where the gRPC service listens, when it runs.
    pub grpc_addr: Option<SocketAddr>,
}

impl ControlPlane {
    /// Starts ingesting `data_dir` into `store` through `fold`, and serves
    /// HTTP on `http` (port 0 picks one; see [`ControlPlane::addr`]), over
    /// TLS alone when `tls` is set.
    pub fn start(
        data_dir: &Path,
        store: Store,
        fold: Fold,
        http: SocketAddr,
        heartbeat: Duration,
        grpc: Option<GrpcSetup>,
        tls: Option<&TlsFiles>,
    ) -> anyhow::Result<ControlPlane> {
        let tls = match tls {
            None => None,
            Some(files) => Some(Tls {
                http: crate::tls::server_config(files, crate::tls::ALPN_HTTP)?,
                grpc: crate::tls::server_config(files, crate::tls::ALPN_GRPC)?,
            }),
        };
        let shared = Arc::new(Shared {
            db: Mutex::new(store.reader()?),
            ingest: Mutex::new(None),
            engine: Mutex::new(EngineHealth::default()),
            heartbeat_ns: heartbeat.as_nanos() as i64,
        });
        let stop = Arc::new(AtomicBool::new(false));
        let mut ingest = Ingest::new(data_dir, store, fold)?;
        let (s, st) = (shared.clone(), stop.clone());
        let ingest = std::thread::Builder::new().name("pt-ingest".into()).spawn(
            move || -> anyhow::Result<u64> {
                let mut total = 0u64;
                loop {
                    let stopping = st.load(Ordering::Relaxed);
                    let n = if stopping {
                        ingest.drain()? as usize
                    } else {
                        ingest.poll()?
                    };
                    total += n as u64;
                    *s.ingest.lock().unwrap_or_else(|p| p.into_inner()) = Some(ingest.status());
                    if stopping {
                        return Ok(total);
                    }
                    if n < crate::ingest::BATCH {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            },
        )?;
        let listener = std::net::TcpListener::bind(http)
            .with_context(|| format!("control.http: cannot listen on {http}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let grpc = match grpc {
            None => None,
            Some(g) => {
                let l = std::net::TcpListener::bind(g.addr)
                    .with_context(|| format!("control.grpc: cannot listen on {}", g.addr))?;
                l.set_nonblocking(true)?;
                let service = ControlService::new(
                    shared.clone(),
                    g.audit,
                    data_dir.to_owned(),
                    g.commands,
                    g.tokens,
                    g.mode,
                );
                Some((l, service))
            }
        };
        let grpc_addr = match &grpc {
            Some((l, _)) => Some(l.local_addr()?),
            None => None,
        };
        let (tx, rx) = tokio::sync::watch::channel(false);
        let app = router(shared.clone());
        let http = std::thread::Builder::new()
            .name("pt-http".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("pt run: the control servers cannot start: {e}");
                        return;
                    }
                };
                rt.block_on(serve(listener, app, grpc, tls, rx));
            })?;
        Ok(ControlPlane {
            shared,
            stop,
            ingest: Some(ingest),
            http: Some(http),
            http_stop: Some(tx),
            addr,
            grpc_addr,
        })
    }

    /// What the handlers share (the supervisor writes the engine's state).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Changes what health and metrics say of the engine.
    pub fn engine(&self, f: impl FnOnce(&mut EngineHealth)) {
        f(&mut self.shared.engine.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Whether the ingest thread is still running (it stops on an error).
    pub fn ingesting(&self) -> bool {
        self.ingest.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Stores what the journals still hold, stops the server; returns the
    /// records the ingest read in all.
    pub fn stop(mut self) -> anyhow::Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        let total = match self.ingest.take() {
            Some(h) => h
                .join()
                .map_err(|_| anyhow::anyhow!("the ingest thread panicked"))??,
            None => 0,
        };
        if let Some(tx) = self.http_stop.take() {
            let _ = tx.send(true);
        }
        if let Some(h) = self.http.take() {
            let _ = h.join();
        }
        Ok(total)
    }
}

/// The servers' TLS configurations (they differ in their ALPN protocol).
struct Tls {
    http: Arc<rustls::ServerConfig>,
    grpc: Arc<rustls::ServerConfig>,
}

/// Serves HTTP and, when set up, gRPC (with reflection) until `stop` turns
/// true; over TLS when `tls` is set.
async fn serve(
    http: std::net::TcpListener,
    app: axum::Router,
    grpc: Option<(std::net::TcpListener, ControlService)>,
    tls: Option<Tls>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let http = async {
        let Ok(l) = tokio::net::TcpListener::from_std(http) else {
            return;
        };
        let served = match &tls {
            None => {
                axum::serve(l, app)
                    .with_graceful_shutdown(stopped(stop.clone()))
                    .await
            }
            Some(t) => match TlsListener::spawn(l, t.http.clone()) {
                Ok(l) => {
                    axum::serve(l, app)
                        .with_graceful_shutdown(stopped(stop.clone()))
                        .await
                }
                Err(e) => Err(e),
            },
        };
        if let Err(e) = served {
            eprintln!("pt run: the HTTP server stopped: {e}");
        }
    };
    let grpc = async {
        let Some((l, service)) = grpc else { return };
        let Ok(l) = tokio::net::TcpListener::from_std(l) else {
            return;
        };
        let reflection = match tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::pb::DESCRIPTOR)
            .build_v1()
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("pt run: gRPC reflection: {e}");
                return;
            }
        };
        let router = tonic::transport::Server::builder()
            .add_service(ControlServer::new(service))
            .add_service(reflection);
        let served = match &tls {
            None => {
                router
                    .serve_with_incoming_shutdown(
                        tokio_stream::wrappers::TcpListenerStream::new(l),
                        stopped(stop.clone()),
                    )
                    .await
            }
            Some(t) => match TlsListener::spawn(l, t.grpc.clone()) {
                Ok(l) => {
                    router
                        .serve_with_incoming_shutdown(l.incoming(), stopped(stop.clone()))
                        .await
                }
                Err(e) => {
                    eprintln!("pt run: the gRPC server cannot start: {e}");
                    return;
                }
            },
        };
        if let Err(e) = served {
            eprintln!("pt run: the gRPC server stopped: {e}");
        }
    };
    tokio::join!(http, grpc);
}
