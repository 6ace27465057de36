//! The network stack's one error type.

use super::ws::ProtocolError;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong on a venue connection.
///
/// Variants met on the hot path (`Protocol`, `MessageTooLarge`, `Io` from the
/// OS) carry no heap data; the rest are connect-time errors.
#[derive(Debug)]
pub enum NetError {
    /// The CA file could not be read or held no usable certificate.
    CaFile {
        /// The file named in the configuration.
        path: PathBuf,
        /// What was wrong with it.
        what: String,
    },
    /// The host name did not resolve, or is not a valid TLS server name.
    Resolve {
        /// The host as configured.
        host: String,
        /// Why it failed.
        what: String,
    },
    /// A socket operation failed.
    Io {
        /// The operation (`"connect"`, `"read"`, `"write"`, ...).
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// TLS failed (certificate verification, alerts, bad records).
    Tls(rustls::Error),
    /// The server refused the upgrade with a status other than 101.
    Http {
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (e.g. a JSON reason), lossy UTF-8.
        body_prefix: String,
    },
    /// The upgrade response was malformed or did not accept the upgrade.
    Handshake(&'static str),
    /// The server broke RFC 6455.
    Protocol(ProtocolError),
    /// A message (or its fragments so far) exceeds the configured maximum.
    MessageTooLarge {
        /// Length announced or reached, in bytes.
        len: u64,
        /// The configured `max_message`.
        max: usize,
    },
    /// The peer closed the TCP/TLS stream without a WebSocket close.
    UnexpectedEof,
    /// The operation needs an open connection (not yet upgraded).
    NotOpen,
    /// The connection has been closed.
    Closed,
    /// A REST response broke HTTP/1.1 (what was wrong).
    BadResponse(&'static str),
    /// A REST connection already has its most requests waiting.
    Busy {
        /// Requests waiting for their responses.
        in_flight: usize,
    },
}

impl NetError {
    pub(crate) fn io(op: &'static str, source: io::Error) -> NetError {
        NetError::Io { op, source }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::CaFile { path, what } => write!(f, "CA file {}: {what}", path.display()),
            NetError::Resolve { host, what } => write!(f, "cannot resolve {host}: {what}"),
            NetError::Io { op, source } => write!(f, "{op} failed: {source}"),
            NetError::Tls(e) => write!(f, "TLS error: {e}"),
            NetError::Http {
                status,
                body_prefix,
            } => write!(f, "upgrade refused with HTTP {status}: {body_prefix}"),
            NetError::Handshake(what) => write!(f, "WebSocket handshake failed: {what}"),
            NetError::Protocol(e) => write!(f, "WebSocket protocol error: {e}"),
            NetError::MessageTooLarge { len, max } => {
                write!(
                    f,
                    "WebSocket message of {len} bytes exceeds the maximum of {max}"
                )
            }
            NetError::UnexpectedEof => {
                f.write_str("connection closed by the peer without a WebSocket close")
            }
            NetError::NotOpen => f.write_str("the WebSocket is not open yet"),
            NetError::Closed => f.write_str("the connection is closed"),
            NetError::BadResponse(what) => write!(f, "malformed HTTP response: {what}"),
            NetError::Busy { in_flight } => write!(
                f,
                "the connection has {in_flight} requests waiting, its most; \
                 wait for a response or open another connection"
            ),
        }
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NetError::Io { source, .. } => Some(source),
            NetError::Tls(e) => Some(e),
            NetError::Protocol(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for NetError {
    fn from(e: ProtocolError) -> NetError {
        NetError::Protocol(e)
    }
}

impl From<rustls::Error> for NetError {
    fn from(e: rustls::Error) -> NetError {
        NetError::Tls(e)
    }
}
