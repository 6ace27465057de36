//! The one place that touches the socket: reads and writes on a non-blocking
//! mio `TcpStream`, through rustls when the connection is TLS.
//!
//! Reads use rustls' buffered `ClientConnection`: `read_tls` pulls records
//! from the socket, `process_new_packets` decrypts them, and the plaintext is
//! copied into the caller's buffer through `reader()`. Writes push plaintext
//! into `writer()` (encrypted at once, or held until the handshake completes)
//! and flush records with `write_tls`.

use super::NetError;
use mio::net::TcpStream;
use rustls::ClientConnection;
use std::io::{self, Read, Write};

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

#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) sock: TcpStream,
    tls: Option<Box<ClientConnection>>,
    tls_eof: bool,
}

impl Transport {
    pub(crate) fn new(sock: TcpStream, tls: Option<ClientConnection>) -> Transport {
        Transport {
            sock,
            tls: tls.map(Box::new),
            tls_eof: false,
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

    /// Reads into `dst` (which must not be empty).
    pub(crate) fn read(&mut self, dst: &mut [u8]) -> Result<Fill, NetError> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return loop {
                match self.sock.read(dst) {
                    Ok(0) => break Ok(Fill::Eof),
                    Ok(n) => break Ok(Fill::Data(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(Fill::WouldBlock),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(NetError::io("read", e)),
                }
            };
        };
        loop {
            match tls.reader().read(dst) {
                Ok(0) => return Ok(Fill::Eof),
                Ok(n) => return Ok(Fill::Data(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Fill::Eof),
                Err(e) => return Err(NetError::io("read", e)),
            }
            if self.tls_eof {
                return Ok(Fill::Eof);
            }
            match tls.read_tls(&mut self.sock) {
                Ok(0) => self.tls_eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Fill::WouldBlock),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(NetError::io("read", e)),
            }
            if let Err(e) = tls.process_new_packets() {
                // Try to tell the peer why (rustls queued an alert).
                let _ = tls.write_tls(&mut self.sock);
                return Err(NetError::Tls(e));
            }
        }
    }

    /// Writes as much of `src` as the socket (or rustls) takes; returns the
    /// count accepted. TLS records are flushed separately by [`Self::flush`].
    pub(crate) fn write(&mut self, src: &[u8]) -> Result<usize, NetError> {
        let Some(tls) = self.tls.as_deref_mut() else {
            let mut written = 0;
            while let Some(rest) = src.get(written..).filter(|r| !r.is_empty()) {
                match self.sock.write(rest) {
                    Ok(0) => return Err(NetError::io("write", io::ErrorKind::WriteZero.into())),
                    Ok(n) => written += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(NetError::io("write", e)),
                }
            }
            return Ok(written);
        };
        // rustls bounds what it buffers; `write` reports what it accepted.
        tls.writer()
            .write(src)
            .map_err(|e| NetError::io("write", e))
    }

    /// Sends whatever TLS records are pending, until `WouldBlock`.
    /// Returns `true` when nothing is left to send.
    pub(crate) fn flush(&mut self) -> Result<bool, NetError> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return Ok(true);
        };
        while tls.wants_write() {
            match tls.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NetError::io("write", e)),
            }
        }
        Ok(true)
    }

    /// Sends a TLS close_notify (if TLS) and shuts the socket for writing.
    pub(crate) fn shutdown(&mut self) {
        if let Some(tls) = self.tls.as_deref_mut() {
            tls.send_close_notify();
        }
        let _ = self.flush();
        let _ = self.sock.shutdown(std::net::Shutdown::Write);
    }
}
