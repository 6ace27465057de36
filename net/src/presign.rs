//! Signatures made ahead of use, so that no RSA operation is on the order
//! path.
//!
//! A venue signs timestamp + method + path, not the body
//! ([`crate::auth::signed_message`]), so a request whose path is known in
//! advance can carry a signature made earlier, as long as its timestamp is
//! still inside the venue's window. [`Presigner::start`] spawns one
//! housekeeping thread that owns the [`Signer`] and, every `refresh`:
//! - signs each fixed path (create, batched create, batched cancel) and
//!   sends the result to the order thread;
//! - signs each per-order path the order thread asked for (an order's amend
//!   path once its venue id is known), until asked to forget it.
//!
//! Asks are taken every 10 ms, and a newly kept path is signed at once.
//!
//! The order thread holds the [`Presigner`]: [`Presigner::fixed`] and
//! [`Presigner::take_order`] read what arrived through wait-free SPSC rings
//! (no lock, no allocation), and [`Presigner::fixed`] refuses a signature
//! older than `max_age`. A request with no fresh signature is signed inline
//! by the caller and counted ([`Presigner::note_inline`]), so a stale cache
//! is visible rather than silent.

use crate::auth::{MAX_SIGNATURE_B64, Signer};
use rtrb::{Consumer, Producer, RingBuffer};
use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The longest path a per-order request may name.
pub const MAX_PATH: usize = 160;

/// A signature made ahead of use, with the timestamp it signed.
#[derive(Clone, Copy)]
pub struct Presigned {
    /// The signed timestamp, unix milliseconds.
    pub timestamp_ms: i64,
    ts: [u8; 20],
    ts_len: u8,
    sig: [u8; MAX_SIGNATURE_B64],
    sig_len: u16,
}

impl fmt::Debug for Presigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presigned")
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}

impl Presigned {
    fn new(timestamp_ms: i64, signature: &str) -> Option<Presigned> {
        let mut ts = [0u8; 20];
        let text = timestamp_ms.to_string();
        ts.get_mut(..text.len())?.copy_from_slice(text.as_bytes());
        let mut sig = [0u8; MAX_SIGNATURE_B64];
        sig.get_mut(..signature.len())?
            .copy_from_slice(signature.as_bytes());
        Some(Presigned {
            timestamp_ms,
            ts,
            ts_len: u8::try_from(text.len()).ok()?,
            sig,
            sig_len: u16::try_from(signature.len()).ok()?,
        })
    }

    /// The timestamp header's value.
    pub fn timestamp(&self) -> &[u8] {
        self.ts.get(..usize::from(self.ts_len)).unwrap_or_default()
    }

    /// The signature header's value (base64).
    pub fn signature(&self) -> &[u8] {
        self.sig
            .get(..usize::from(self.sig_len))
            .unwrap_or_default()
    }

    /// Whether it may still be sent at `now_ms`.
    pub fn fresh(&self, now_ms: i64, max_age_ms: i64) -> bool {
        now_ms.saturating_sub(self.timestamp_ms) < max_age_ms
    }
}

/// A request method and path known before the order exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedPath {
    /// `POST`, `DELETE`, ...
    pub method: &'static str,
    /// From the root, e.g. `/trade-api/v2/portfolio/events/orders`.
    pub path: String,
}

/// How often to sign and how long a signature may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresignConfig {
    /// Time between two signing rounds.
    pub refresh: Duration,
    /// The oldest signature [`Presigner::fixed`] hands out; below the
    /// venue's timestamp window, with room for the request's flight.
    pub max_age: Duration,
    /// Per-order paths signed at once, at most.
    pub max_orders: usize,
}

impl Default for PresignConfig {
    fn default() -> Self {
        PresignConfig {
            refresh: Duration::from_millis(1_000),
            max_age: Duration::from_millis(4_000),
            max_orders: 1024,
        }
    }
}

/// What the order thread asks the housekeeper.
#[derive(Clone, Copy)]
enum Ask {
    /// Keep `path` signed for `tag`.
    Sign {
        tag: u64,
        method: &'static str,
        path: [u8; MAX_PATH],
        len: u8,
    },
    /// Stop signing for `tag`.
    Forget { tag: u64 },
}

/// The order thread's side; see the module docs.
pub struct Presigner {
    fixed: Vec<(Consumer<Presigned>, Option<Presigned>)>,
    asks: Producer<Ask>,
    orders: Consumer<(u64, Presigned)>,
    max_age_ms: i64,
    inline: u64,
    refused_asks: u64,
    signer: Arc<Signer>,
    thread: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for Presigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presigner")
            .field("fixed", &self.fixed.len())
            .field("inline", &self.inline)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl Presigner {
    /// Starts the housekeeping thread for `paths` (indexed in this order by
    /// [`Presigner::fixed`]). The first round is signed before this returns,
    /// so the fixed paths are ready at once.
    pub fn start(signer: Arc<Signer>, paths: Vec<FixedPath>, config: PresignConfig) -> Presigner {
        let mut fixed = Vec::with_capacity(paths.len());
        let mut producers = Vec::with_capacity(paths.len());
        for _ in &paths {
            let (tx, rx) = RingBuffer::new(8);
            producers.push(tx);
            fixed.push((rx, None));
        }
        let (asks, ask_rx) = RingBuffer::new(config.max_orders.max(16) * 2);
        let (order_tx, orders) = RingBuffer::new(config.max_orders.max(16) * 4);
        let mut keeper = Keeper {
            signer: Arc::clone(&signer),
            paths,
            producers,
            asks: ask_rx,
            orders: order_tx,
            live: Vec::with_capacity(config.max_orders),
            max_orders: config.max_orders,
        };
        keeper.refresh();
        let every = config.refresh;
        let thread = thread::Builder::new()
            .name("presign".to_owned())
            .spawn(move || {
                let mut last = std::time::Instant::now();
                while !keeper.asks.is_abandoned() {
                    thread::sleep(ASK_POLL.min(every));
                    keeper.take_asks();
                    if last.elapsed() >= every {
                        last = std::time::Instant::now();
                        keeper.refresh();
                    }
                }
            })
            .ok();
        let mut presigner = Presigner {
            fixed,
            asks,
            orders,
            max_age_ms: i64::try_from(config.max_age.as_millis()).unwrap_or(i64::MAX),
            inline: 0,
            refused_asks: 0,
            signer,
            thread,
        };
        presigner.drain();
        presigner
    }

    fn drain(&mut self) {
        for (rx, latest) in &mut self.fixed {
            while let Ok(p) = rx.pop() {
                *latest = Some(p);
            }
        }
    }

    /// The freshest signature for fixed path `index` if it is younger than
    /// `max_age` at `now_ms`.
    pub fn fixed(&mut self, index: usize, now_ms: i64) -> Option<&Presigned> {
        let max_age = self.max_age_ms;
        let (rx, latest) = self.fixed.get_mut(index)?;
        while let Ok(p) = rx.pop() {
            *latest = Some(p);
        }
        latest.as_ref().filter(|p| p.fresh(now_ms, max_age))
    }

    /// The oldest signature [`Presigner::fixed`] hands out, in ms.
    pub fn max_age_ms(&self) -> i64 {
        self.max_age_ms
    }

    /// Asks for `method path` to be kept signed for `tag` (an order) until
    /// [`Presigner::forget`]. `false` if the path is too long or the ask
    /// ring is full (counted).
    pub fn keep_signed(&mut self, tag: u64, method: &'static str, path: &[u8]) -> bool {
        let mut buf = [0u8; MAX_PATH];
        let Some(dst) = buf.get_mut(..path.len()) else {
            self.refused_asks += 1;
            return false;
        };
        dst.copy_from_slice(path);
        let ask = Ask::Sign {
            tag,
            method,
            path: buf,
            len: u8::try_from(path.len()).unwrap_or(u8::MAX),
        };
        let ok = self.asks.push(ask).is_ok();
        if !ok {
            self.refused_asks += 1;
        }
        ok
    }

    /// Stops signing for `tag`.
    pub fn forget(&mut self, tag: u64) {
        if self.asks.push(Ask::Forget { tag }).is_err() {
            self.refused_asks += 1;
        }
    }

    /// The next per-order signature that arrived, with its tag.
    pub fn take_order(&mut self) -> Option<(u64, Presigned)> {
        self.orders.pop().ok()
    }

    /// Counts a request the caller had to sign itself.
    pub fn note_inline(&mut self) {
        self.inline += 1;
    }

    /// Requests signed on the order thread because no fresh signature was
    /// ready.
    pub fn inline(&self) -> u64 {
        self.inline
    }

    /// Asks that could not be queued.
    pub fn refused_asks(&self) -> u64 {
        self.refused_asks
    }

    /// The signer, for a request signed inline.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }
}

impl Drop for Presigner {
    fn drop(&mut self) {
        // Dropping `asks` (after this) lets the keeper's loop end; do not
        // wait for it here, it may be asleep for one refresh.
        let _ = self.thread.take();
    }
}

/// The housekeeping thread's side.
struct Keeper {
    signer: Arc<Signer>,
    paths: Vec<FixedPath>,
    producers: Vec<Producer<Presigned>>,
    asks: Consumer<Ask>,
    orders: Producer<(u64, Presigned)>,
    live: Vec<(u64, &'static str, String)>,
    max_orders: usize,
}

impl Keeper {
    /// Takes the order thread's asks; a newly kept path is signed at once,
    /// so an order's amend is ready within one `ASK_POLL` of its ack.
    fn take_asks(&mut self) {
        while let Ok(ask) = self.asks.pop() {
            match ask {
                Ask::Sign {
                    tag,
                    method,
                    path,
                    len,
                } => {
                    let path = path.get(..usize::from(len)).unwrap_or_default();
                    let path = String::from_utf8_lossy(path).into_owned();
                    self.live.retain(|(t, _, _)| *t != tag);
                    if self.live.len() < self.max_orders {
                        let now = crate::auth::now_ms();
                        if let Some(p) = sign(&self.signer, now, &now.to_string(), method, &path) {
                            let _ = self.orders.push((tag, p));
                        }
                        self.live.push((tag, method, path));
                    }
                }
                Ask::Forget { tag } => self.live.retain(|(t, _, _)| *t != tag),
            }
        }
    }

    /// Signs every fixed path and every kept order path again.
    fn refresh(&mut self) {
        let now = crate::auth::now_ms();
        let ts = now.to_string();
        for (path, tx) in self.paths.iter().zip(&mut self.producers) {
            if let Some(p) = sign(&self.signer, now, &ts, path.method, &path.path) {
                // A full ring means the order thread has not looked for
                // several rounds; it takes the newest when it does.
                let _ = tx.push(p);
            }
        }
        for (tag, method, path) in &self.live {
            if let Some(p) = sign(&self.signer, now, &ts, method, path) {
                let _ = self.orders.push((*tag, p));
            }
        }
    }
}

/// How often the housekeeper looks for asks between refreshes.
const ASK_POLL: Duration = Duration::from_millis(10);

fn sign(signer: &Signer, now: i64, ts: &str, method: &str, path: &str) -> Option<Presigned> {
    let sig = signer.try_sign(ts, method, path).ok()?;
    Presigned::new(now, &sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_holds_its_values() {
        let p = Presigned::new(1_703_123_456_789, "abc=").unwrap();
        assert_eq!(p.timestamp(), b"1703123456789");
        assert_eq!(p.signature(), b"abc=");
        assert!(p.fresh(1_703_123_456_789 + 999, 1_000));
        assert!(!p.fresh(1_703_123_456_789 + 1_000, 1_000));
        let too_long = "a".repeat(MAX_SIGNATURE_B64 + 1);
        assert!(Presigned::new(1, &too_long).is_none());
    }
}
