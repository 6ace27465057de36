//! The control plane's threads: the ingest (journals into the store) and
//! the HTTP server (tokio), sharing [`Shared`].

use crate::fold::Fold;
use crate::http::{EngineHealth, Shared, router};
use crate::ingest::Ingest;
use crate::store::Store;
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The running ingest and HTTP server.
#[derive(Debug)]
pub struct ControlPlane {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    ingest: Option<JoinHandle<anyhow::Result<u64>>>,
    http: Option<JoinHandle<()>>,
    http_stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
}

impl ControlPlane {
    /// Starts ingesting `data_dir` into `store` through `fold`, and serves
    /// HTTP on `http` (port 0 picks one; see [`ControlPlane::addr`]).
    pub fn start(
        data_dir: &Path,
        store: Store,
        fold: Fold,
        http: SocketAddr,
        heartbeat: Duration,
    ) -> anyhow::Result<ControlPlane> {
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
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
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
                        eprintln!("pt run: the HTTP server cannot start: {e}");
                        return;
                    }
                };
                rt.block_on(async move {
                    let Ok(l) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let served = axum::serve(l, app).with_graceful_shutdown(async move {
                        let _ = rx.await;
                    });
                    if let Err(e) = served.await {
                        eprintln!("pt run: the HTTP server stopped: {e}");
                    }
                });
            })?;
        Ok(ControlPlane {
            shared,
            stop,
            ingest: Some(ingest),
            http: Some(http),
            http_stop: Some(tx),
            addr,
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
            let _ = tx.send(());
        }
        if let Some(h) = self.http.take() {
            let _ = h.join();
        }
        Ok(total)
    }
}
