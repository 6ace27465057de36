//! The one place that touches the socket: reads and writes on a non-blocking
//! mio `TcpStream`, through TLS when the connection is TLS.
//!
//! TLS has two stages:
//! - The handshake runs in rustls' `UnbufferedClientConnection`, on our own
//!   buffers. Writes are refused (`Ok(0)`) until it is done. The caller keeps
//!   its upgrade request queued meanwhile.
//! - After the handshake, rustls hands the traffic keys over and
//!   [`RecordLayer`] reads and writes the records. Each received record is
//!   decrypted in place in `input`, and its plaintext is copied once into
//!   the caller's buffer. Nothing is allocated per received record.

use super::NetError;
use super::record::{self, Opened, RecordLayer, TlsStats};
use mio::net::TcpStream;
use rustls::client::UnbufferedClientConnection;
use rustls::unbuffered::{ConnectionState, EncodeError};
use std::io::{self, Read, Write};
use std::ops::Range;

/// What one read attempt produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// This many bytes were stored.
    Data(usize),
    /// Nothing available now; wait for readiness.
    WouldBlock,
    /// The peer closed the stream (TLS: with or without close_notify).
    Eof,
}

/// Ciphertext read buffer: room for several records per `read` call, and
/// always for one whole record after compaction.
const INPUT: usize = 1 << 16;
/// Sealed records held for the socket before writes are refused.
const OUTPUT_LIMIT: usize = 1 << 16;

#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) sock: TcpStream,
    tls: Option<Box<Tls>>,
}

enum Stage {
    Handshake(Box<UnbufferedClientConnection>),
    Records(Box<RecordLayer>),
    /// The handshake failed or the conversion did.
    Failed,
}

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Handshake(_) => f.write_str("Handshake"),
            Stage::Records(records) => records.fmt(f),
            Stage::Failed => f.write_str("Failed"),
        }
    }
}

struct Tls {
    stage: Stage,
    /// Ciphertext from the socket; records are decrypted here in place.
    input: Box<[u8]>,
    start: usize,
    end: usize,
    /// Decrypted application data in `input` not yet handed out.
    plain: Range<usize>,
    /// Application data that arrived during the handshake (rare: a server's
    /// 0.5-RTT data); handed out first.
    early: Vec<u8>,
    /// Records waiting for the socket, from `sent` on.
    output: Vec<u8>,
    sent: usize,
    /// The socket reached EOF, or the peer sent close_notify.
    eof: bool,
}

/// What one step of the handshake needs next.
enum Step {
    Progress,
    NeedData,
    Done,
    Closed,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Buffers hold plaintext and are left out.
        f.debug_struct("Tls")
            .field("stage", &self.stage)
            .field("buffered_in", &(self.end - self.start))
            .field("buffered_out", &(self.output.len() - self.sent))
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn new(sock: TcpStream, tls: Option<UnbufferedClientConnection>) -> Transport {
        Transport {
            sock,
            tls: tls.map(|conn| {
                Box::new(Tls {
                    stage: Stage::Handshake(Box::new(conn)),
                    input: vec![0; INPUT].into_boxed_slice(),
                    start: 0,
                    end: 0,
                    plain: 0..0,
                    early: Vec::new(),
                    output: Vec::with_capacity(OUTPUT_LIMIT + record::MAX_FRAGMENT + 64),
                    sent: 0,
                    eof: false,
                })
            }),
        }
    }

    /// `Ok(true)` once the non-blocking connect has completed.
    pub(crate) fn connect_finished(&self) -> Result<bool, NetError> {
        if let Some(e) = self
            .sock
            .take_error()
            .map_err(|e| NetError::io("connect", e))?
        {
            return Err(NetError::io("connect", e));
        }
        match self.sock.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(NetError::io("connect", e)),
        }
    }

    /// The TLS connection's counters, once its handshake is done.
    pub(crate) fn tls_stats(&self) -> Option<TlsStats> {
        match &self.tls.as_deref()?.stage {
            Stage::Records(records) => Some(records.stats()),
            _ => None,
        }
    }

    /// Reads into `dst` (which must not be empty).
    pub(crate) fn read(&mut self, dst: &mut [u8]) -> Result<Fill, NetError> {
        match self.tls.as_deref_mut() {
            None => read_socket(&mut self.sock, dst),
            Some(tls) => tls.read(&mut self.sock, dst),
        }
    }

    /// Writes as much of `src` as the socket (or the TLS layer) takes;
    /// returns the count accepted. TLS records are flushed separately by
    /// [`Self::flush`].
    pub(crate) fn write(&mut self, src: &[u8]) -> Result<usize, NetError> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return write_socket(&mut self.sock, src);
        };
        let Stage::Records(records) = &mut tls.stage else {
            return Ok(0);
        };
        if tls.output.len() - tls.sent >= OUTPUT_LIMIT {
            return Ok(0);
        }
        if tls.sent > 0 {
            // Keep `output` within the capacity it was made with.
            tls.output.drain(..tls.sent);
            tls.sent = 0;
        }
        let n = src.len().min(record::MAX_FRAGMENT);
        records.seal_data(src.get(..n).unwrap_or_default(), &mut tls.output)?;
        Ok(n)
    }

    /// Sends whatever TLS records are pending, until `WouldBlock`.
    /// Returns `true` when nothing is left to send.
    pub(crate) fn flush(&mut self) -> Result<bool, NetError> {
        match self.tls.as_deref_mut() {
            None => Ok(true),
            Some(tls) => tls.flush(&mut self.sock),
        }
    }

    /// Sends a TLS close_notify (if TLS) and shuts the socket for writing.
    pub(crate) fn shutdown(&mut self) {
        if let Some(tls) = self.tls.as_deref_mut()
            && let Stage::Records(records) = &mut tls.stage
        {
            let _ = records.seal_close_notify(&mut tls.output);
        }
        let _ = self.flush();
        let _ = self.sock.shutdown(std::net::Shutdown::Write);
    }
}

fn read_socket(sock: &mut TcpStream, dst: &mut [u8]) -> Result<Fill, NetError> {
    loop {
        match sock.read(dst) {
            Ok(0) => return Ok(Fill::Eof),
            Ok(n) => return Ok(Fill::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Fill::WouldBlock),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(NetError::io("read", e)),
        }
    }
}

/// Writes `src` until done or the socket would block; returns the count
/// written.
fn write_socket(sock: &mut TcpStream, src: &[u8]) -> Result<usize, NetError> {
    let mut written = 0;
    while let Some(rest) = src.get(written..).filter(|r| !r.is_empty()) {
        match sock.write(rest) {
            Ok(0) => return Err(NetError::io("write", io::ErrorKind::WriteZero.into())),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(NetError::io("write", e)),
        }
    }
    Ok(written)
}

impl Tls {
    fn read(&mut self, sock: &mut TcpStream, dst: &mut [u8]) -> Result<Fill, NetError> {
        loop {
            if !self.early.is_empty() {
                let n = dst.len().min(self.early.len());
                dst[..n].copy_from_slice(&self.early[..n]);
                self.early.drain(..n);
                return Ok(Fill::Data(n));
            }
            if !self.plain.is_empty() {
                let n = dst.len().min(self.plain.len());
                let from = self.plain.start;
                dst[..n].copy_from_slice(&self.input[from..from + n]);
                self.plain.start += n;
                return Ok(Fill::Data(n));
            }
            if self.next_record(sock)? {
                continue;
            }
            if self.eof {
                return Ok(Fill::Eof);
            }
            self.make_room();
            if self.end == self.input.len() {
                // Only a handshake message can fill the buffer (records are
                // at most 18 KiB): a certificate chain beyond 64 KiB.
                return Err(NetError::Tls(rustls::Error::General(format!(
                    "TLS handshake message larger than the {} KiB input buffer",
                    INPUT / 1024
                ))));
            }
            match read_socket(sock, &mut self.input[self.end..])? {
                Fill::Data(n) => self.end += n,
                Fill::Eof => self.eof = true,
                Fill::WouldBlock => return Ok(Fill::WouldBlock),
            }
        }
    }

    /// Processes what `input` holds: one handshake step, or one whole record.
    /// `Ok(false)`: more bytes are needed (or the stream has ended).
    fn next_record(&mut self, sock: &mut TcpStream) -> Result<bool, NetError> {
        match &mut self.stage {
            Stage::Handshake(_) => match self.handshake_step()? {
                Step::Progress => {
                    self.flush(sock)?;
                    Ok(true)
                }
                Step::NeedData => Ok(false),
                Step::Closed => {
                    self.eof = true;
                    Ok(false)
                }
                Step::Done => {
                    self.switch_to_records()?;
                    self.flush(sock)?;
                    Ok(true)
                }
            },
            Stage::Records(records) => {
                let Some(len) = record::whole_record(&self.input[self.start..self.end])? else {
                    return Ok(false);
                };
                let rec = &mut self.input[self.start..self.start + len];
                let (header, body) = rec.split_at_mut(record::HEADER);
                let opened = records.open(header, body, &mut self.output)?;
                let body_at = self.start + record::HEADER;
                self.start += len;
                match opened {
                    Opened::Data(range) => {
                        self.plain = body_at + range.start..body_at + range.end;
                    }
                    Opened::Handled => {
                        if self.output.len() > self.sent {
                            // A key update answered: send it before anything else.
                            self.flush(sock)?;
                        }
                    }
                    Opened::Closed => {
                        self.eof = true;
                        self.start = self.end;
                    }
                }
                Ok(true)
            }
            Stage::Failed => Err(NetError::Tls(rustls::Error::HandshakeNotComplete)),
        }
    }

    fn handshake_step(&mut self) -> Result<Step, NetError> {
        let Stage::Handshake(conn) = &mut self.stage else {
            return Ok(Step::Progress);
        };
        let status = conn.process_tls_records(&mut self.input[self.start..self.end]);
        let discard = status.discard;
        let step = match status.state.map_err(NetError::Tls)? {
            ConnectionState::EncodeTlsData(mut data) => loop {
                let len = self.output.len();
                let spare = self.output.capacity() - len;
                self.output.resize(len + spare.max(4096), 0);
                match data.encode(&mut self.output[len..]) {
                    Ok(n) => {
                        self.output.truncate(len + n);
                        break Step::Progress;
                    }
                    Err(EncodeError::InsufficientSize(need)) => {
                        self.output.truncate(len);
                        self.output.reserve(need.required_size);
                    }
                    Err(EncodeError::AlreadyEncoded) => {
                        self.output.truncate(len);
                        break Step::Progress;
                    }
                }
            },
            // The bytes are in `output`; `flush` sends them.
            ConnectionState::TransmitTlsData(data) => {
                data.done();
                Step::Progress
            }
            ConnectionState::BlockedHandshake => Step::NeedData,
            ConnectionState::WriteTraffic(_) => Step::Done,
            ConnectionState::ReadTraffic(mut data) => {
                while let Some(record) = data.next_record() {
                    let record = record.map_err(NetError::Tls)?;
                    self.early.extend_from_slice(record.payload);
                }
                Step::Progress
            }
            ConnectionState::PeerClosed | ConnectionState::Closed => Step::Closed,
            _ => {
                return Err(NetError::Tls(rustls::Error::General(
                    "unexpected TLS state during the handshake".to_owned(),
                )));
            }
        };
        self.start += discard;
        Ok(step)
    }

    /// Takes the keys from rustls; from here on [`RecordLayer`] does the records.
    fn switch_to_records(&mut self) -> Result<(), NetError> {
        let Stage::Handshake(conn) = std::mem::replace(&mut self.stage, Stage::Failed) else {
            return Ok(());
        };
        let (secrets, kernel) = (*conn)
            .dangerous_into_kernel_connection()
            .map_err(NetError::Tls)?;
        self.stage = Stage::Records(Box::new(RecordLayer::new(secrets, kernel)?));
        Ok(())
    }

    /// Makes room at the end of `input` for at least one whole record.
    fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.input.len() - self.end < record::HEADER + record::MAX_CIPHERTEXT {
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    fn flush(&mut self, sock: &mut TcpStream) -> Result<bool, NetError> {
        self.sent += write_socket(sock, self.output.get(self.sent..).unwrap_or_default())?;
        if self.sent < self.output.len() {
            return Ok(false);
        }
        self.output.clear();
        self.sent = 0;
        Ok(true)
    }
}
