//! One HTTP/1.1 keep-alive client connection for a venue's REST API, on
//! the same mio socket and TLS record layer as the WebSocket client.
//!
//! The connection is registered on the caller's `mio::Poll` under the
//! caller's token, so one thread can drive several of them (and the feed's
//! socket) from one poll. [`HttpConn::pump`] advances it: finishes the
//! connect and the TLS handshake, writes queued requests, reads until the
//! socket would block, and hands each complete response to the caller as a
//! slice of the read buffer. Requests may be pipelined: responses come back
//! in request order, each with the tag its request was given.
//!
//! Nothing blocks and nothing is allocated per request once the buffers
//! have grown to the largest request and response seen: requests are
//! encoded straight into the write buffer (the body by a closure, its
//! `Content-Length` filled in afterwards); response heads are parsed by
//! `httparse` into a header array on the stack; chunked bodies are joined
//! in place. DNS is resolved once, by [`HttpTarget::resolve`], before
//! trading; reconnecting reuses the addresses.

use super::NetError;
use super::conn::{Target, start_connect};
use super::record::TlsStats;
use super::transport::{Fill, Transport};
use mio::{Registry, Token};
use rustls::ClientConfig;
use std::collections::VecDeque;
use std::fmt;
use std::io::Write as _;
use std::sync::Arc;

/// Response headers looked at; more is a malformed response.
const MAX_HEADERS: usize = 48;
/// Width of the `Content-Length` value written before the body is known.
const LENGTH_DIGITS: usize = 10;
const INITIAL_READ: usize = 64 * 1024;

/// A REST server resolved once; cheap to reconnect to.
#[derive(Clone)]
pub struct HttpTarget {
    target: Target,
}

impl fmt::Debug for HttpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTarget")
            .field("host", &self.target.host_header)
            .field("addrs", &self.target.addrs)
            .field("tls", &self.target.tls.is_some())
            .finish()
    }
}

impl HttpTarget {
    /// Resolves `host` (blocking DNS: call it before trading). `tls` is
    /// `Some` for `https`.
    pub fn resolve(
        host: &str,
        port: u16,
        tls: Option<&Arc<ClientConfig>>,
    ) -> Result<HttpTarget, NetError> {
        Ok(HttpTarget {
            target: Target::resolve(host, port, tls)?,
        })
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }
}

/// One complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// The tag its request was given.
    pub tag: u64,
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After` in whole seconds, when given as a number.
    pub retry_after_s: Option<u32>,
    /// The body (chunked bodies joined).
    pub body: &'a [u8],
}

/// What one [`HttpConn::pump`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pumped {
    /// Still connecting (TCP or TLS).
    Connecting,
    /// Open; this many responses were handed out.
    Responses(usize),
    /// The server closed the connection after the responses handed out;
    /// requests still in flight have no answer and are reported by
    /// [`HttpConn::in_flight`].
    Closed(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Open,
    Closed,
}

/// One connection; see the module docs.
pub struct HttpConn {
    transport: Transport,
    phase: Phase,
    host_header: String,
    rbuf: Vec<u8>,
    start: usize,
    end: usize,
    wbuf: Vec<u8>,
    wpos: usize,
    in_flight: VecDeque<u64>,
    max_in_flight: usize,
    max_response: usize,
    handshake_done: bool,
    requests: u64,
    responses: u64,
}

impl fmt::Debug for HttpConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Buffers hold signed headers and are left out.
        f.debug_struct("HttpConn")
            .field("host", &self.host_header)
            .field("phase", &self.phase)
            .field("in_flight", &self.in_flight.len())
            .field("requests", &self.requests)
            .field("responses", &self.responses)
            .finish_non_exhaustive()
    }
}

impl HttpConn {
    /// Starts a non-blocking connect to `target` (its first address that
    /// accepts a connect call), registered on `registry` under `token`.
    /// At most `max_in_flight` requests may wait for their responses;
    /// a response body may be at most `max_response` bytes.
    pub fn connect(
        target: &HttpTarget,
        registry: &Registry,
        token: Token,
        max_in_flight: usize,
        max_response: usize,
    ) -> Result<HttpConn, NetError> {
        let t = &target.target;
        let mut last = NetError::Resolve {
            host: t.host_header.clone(),
            what: "no addresses".to_owned(),
        };
        for addr in &t.addrs {
            match start_connect(registry, token, *addr, t.tls.as_ref()) {
                Ok(transport) => {
                    return Ok(HttpConn {
                        transport,
                        phase: Phase::Connecting,
                        host_header: t.host_header.clone(),
                        rbuf: vec![0; INITIAL_READ],
                        start: 0,
                        end: 0,
                        wbuf: Vec::with_capacity(16 * 1024),
                        wpos: 0,
                        in_flight: VecDeque::with_capacity(max_in_flight.max(1)),
                        max_in_flight: max_in_flight.max(1),
                        max_response,
                        handshake_done: t.tls.is_none(),
                        requests: 0,
                        responses: 0,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Deregisters the socket (before dropping a connection whose token
    /// will be reused).
    pub fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.transport.sock);
    }

    /// Queues one request and writes what the socket takes now. `headers`
    /// go out as given (their values are never logged); `body` writes the
    /// body into the buffer (nothing for none), and `Content-Length` is set
    /// from what it wrote. Queued while connecting; refused when
    /// `max_in_flight` requests are waiting or the connection is closed.
    pub fn request(
        &mut self,
        tag: u64,
        method: &str,
        path: &[u8],
        headers: &[(&str, &[u8])],
        body: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), NetError> {
        if self.phase == Phase::Closed {
            return Err(NetError::Closed);
        }
        if self.in_flight.len() >= self.max_in_flight {
            return Err(NetError::Busy {
                in_flight: self.in_flight.len(),
            });
        }
        let w = &mut self.wbuf;
        w.extend_from_slice(method.as_bytes());
        w.push(b' ');
        w.extend_from_slice(path);
        w.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        w.extend_from_slice(self.host_header.as_bytes());
        w.extend_from_slice(b"\r\n");
        for (name, value) in headers {
            w.extend_from_slice(name.as_bytes());
            w.extend_from_slice(b": ");
            w.extend_from_slice(value);
            w.extend_from_slice(b"\r\n");
        }
        w.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: ");
        let length_at = w.len();
        w.extend_from_slice(&[b' '; LENGTH_DIGITS]);
        w.extend_from_slice(b"\r\n\r\n");
        let body_at = w.len();
        body(w);
        let len = w.len() - body_at;
        // Right-aligned in its field; the spaces before it are the header's
        // optional white space.
        let mut digits = [b' '; LENGTH_DIGITS];
        let mut cursor = &mut digits[..];
        let _ = write!(cursor, "{len:>LENGTH_DIGITS$}");
        if let Some(field) = w.get_mut(length_at..length_at + LENGTH_DIGITS) {
            field.copy_from_slice(&digits);
        }
        self.in_flight.push_back(tag);
        self.requests += 1;
        if self.phase == Phase::Open {
            self.flush()?;
        }
        Ok(())
    }

    /// Advances the connection (see the module docs), calling `on_response`
    /// for each complete response. Any error closes the connection; the
    /// requests in flight then have no answer ([`HttpConn::in_flight`]).
    pub fn pump(&mut self, on_response: &mut dyn FnMut(Response<'_>)) -> Result<Pumped, NetError> {
        let result = self.advance(on_response);
        if result.is_err() {
            self.transport.shutdown();
            self.phase = Phase::Closed;
        }
        result
    }

    /// Requests sent or queued whose responses have not arrived, oldest
    /// first (their tags).
    pub fn in_flight(&self) -> impl Iterator<Item = u64> + '_ {
        self.in_flight.iter().copied()
    }

    /// How many requests wait for their responses.
    pub fn waiting(&self) -> usize {
        self.in_flight.len()
    }

    /// Open: connected, and (over TLS) the handshake done.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open && self.handshake_done
    }

    /// Closed by either side or by an error.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Requests queued and responses received so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.requests, self.responses)
    }

    /// The TLS session's counters, once its handshake is done.
    pub fn tls_stats(&self) -> Option<TlsStats> {
        self.transport.tls_stats()
    }

    fn advance(&mut self, on_response: &mut dyn FnMut(Response<'_>)) -> Result<Pumped, NetError> {
        if self.phase == Phase::Closed {
            return Err(NetError::Closed);
        }
        if self.phase == Phase::Connecting {
            if !self.transport.connect_finished()? {
                return Ok(Pumped::Connecting);
            }
            self.phase = Phase::Open;
        }
        self.flush()?;
        let mut handed = 0;
        loop {
            self.make_room()?;
            let fill = match self.rbuf.get_mut(self.end..) {
                Some(free) if !free.is_empty() => self.transport.read(free)?,
                _ => return Err(NetError::BadResponse("read buffer full")),
            };
            if let Fill::Data(n) = fill {
                self.end += n;
            }
            if !self.handshake_done && self.transport.tls_stats().is_some() {
                self.handshake_done = true;
                // Requests queued during the handshake go out now.
                self.flush()?;
            }
            let close = self.take_responses(on_response, &mut handed)?;
            if close {
                self.transport.shutdown();
                self.phase = Phase::Closed;
                return Ok(Pumped::Closed(handed));
            }
            match fill {
                Fill::Data(_) => {}
                Fill::WouldBlock => break,
                Fill::Eof => {
                    self.phase = Phase::Closed;
                    return Ok(Pumped::Closed(handed));
                }
            }
        }
        self.flush()?;
        Ok(if self.handshake_done {
            Pumped::Responses(handed)
        } else {
            Pumped::Connecting
        })
    }

    /// Hands out every complete response; `true` if one asked to close.
    fn take_responses(
        &mut self,
        on_response: &mut dyn FnMut(Response<'_>),
        handed: &mut usize,
    ) -> Result<bool, NetError> {
        loop {
            let buf = self.rbuf.get_mut(self.start..self.end).unwrap_or_default();
            if buf.is_empty() {
                return Ok(false);
            }
            let Some(parsed) = parse_response(buf, self.max_response)? else {
                return Ok(false);
            };
            if parsed.status < 200 {
                // An interim response (100 Continue): no request ends here.
                self.start += parsed.consumed;
                continue;
            }
            let Some(tag) = self.in_flight.pop_front() else {
                return Err(NetError::BadResponse("a response with no request waiting"));
            };
            let body = buf
                .get(parsed.body.clone())
                .ok_or(NetError::BadResponse("body outside the buffer"))?;
            on_response(Response {
                tag,
                status: parsed.status,
                retry_after_s: parsed.retry_after_s,
                body,
            });
            self.responses += 1;
            *handed += 1;
            self.start += parsed.consumed;
            if parsed.close {
                return Ok(true);
            }
        }
    }

    /// Room after `end`: reset when empty, compact, grow up to the largest
    /// response allowed.
    fn make_room(&mut self) -> Result<(), NetError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end < self.rbuf.len() {
            return Ok(());
        }
        if self.start > 0 {
            self.rbuf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            return Ok(());
        }
        let limit = self.max_response.saturating_add(16 * 1024);
        if self.rbuf.len() >= limit {
            return Err(NetError::MessageTooLarge {
                len: self.rbuf.len() as u64,
                max: self.max_response,
            });
        }
        let grown = self.rbuf.len().saturating_mul(2).min(limit);
        self.rbuf.resize(grown, 0);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), NetError> {
        if !self.handshake_done && self.phase == Phase::Open {
            // Drive the TLS handshake; requests wait in `wbuf`.
            return self.transport.flush().map(|_| ());
        }
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

/// A complete response at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After` in seconds, when numeric.
    pub retry_after_s: Option<u32>,
    /// Where the body is in the buffer (chunked bodies are joined in place).
    pub body: std::ops::Range<usize>,
    /// Bytes the response took, head, body and any chunk framing.
    pub consumed: usize,
    /// The server will close the connection after it.
    pub close: bool,
}

/// Parses the response at the front of `buf`: `Ok(None)` until it is
/// complete. A chunked body is joined in place at the front of its
/// region, so `buf` is modified once the whole response is there. Bodies
/// without a length (read to the end of the stream) are refused: a
/// keep-alive server always sends one.
pub fn parse_response(buf: &mut [u8], max_body: usize) -> Result<Option<Parsed>, NetError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() > 64 * 1024 {
                return Err(NetError::BadResponse("response head over 64 KiB"));
            }
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(NetError::BadResponse("too many response headers"));
        }
        Err(_) => return Err(NetError::BadResponse("malformed HTTP response head")),
    };
    let status = response.code.unwrap_or(0);
    let mut content_length = None;
    let mut chunked = false;
    let mut close = response.version == Some(0);
    let mut retry_after_s = None;
    for h in response.headers.iter() {
        let value = h.value.trim_ascii();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = parse_decimal(value)
                .ok_or(NetError::BadResponse("Content-Length is not a number"))?;
            if content_length.is_some_and(|c| c != n) {
                return Err(NetError::BadResponse("two different Content-Length values"));
            }
            content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            if !chunked {
                return Err(NetError::BadResponse(
                    "a transfer encoding other than chunked",
                ));
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    close = false;
                }
            }
        } else if h.name.eq_ignore_ascii_case("retry-after") {
            retry_after_s = parse_decimal(value).and_then(|n| u32::try_from(n).ok());
        }
    }
    let no_body = status < 200 || status == 204 || status == 304;
    if no_body {
        return Ok(Some(Parsed {
            status,
            retry_after_s,
            body: head_len..head_len,
            consumed: head_len,
            close,
        }));
    }
    if chunked {
        let Some((body_len, framed)) = join_chunks(&mut buf[head_len..], max_body)? else {
            return Ok(None);
        };
        return Ok(Some(Parsed {
            status,
            retry_after_s,
            body: head_len..head_len + body_len,
            consumed: head_len + framed,
            close,
        }));
    }
    let Some(len) = content_length else {
        return Err(NetError::BadResponse(
            "a response with neither Content-Length nor chunked encoding",
        ));
    };
    if len > max_body {
        return Err(NetError::MessageTooLarge {
            len: len as u64,
            max: max_body,
        });
    }
    if buf.len() - head_len < len {
        return Ok(None);
    }
    Ok(Some(Parsed {
        status,
        retry_after_s,
        body: head_len..head_len + len,
        consumed: head_len + len,
        close,
    }))
}

fn parse_decimal(v: &[u8]) -> Option<usize> {
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        v.iter()
            .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0')),
    )
}

/// Finds a chunk-size line at `at`: (size, where its data starts).
fn chunk_line(buf: &[u8], at: usize) -> Result<Option<(usize, usize)>, NetError> {
    let rest = buf.get(at..).unwrap_or_default();
    let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
        if rest.len() > 1024 {
            return Err(NetError::BadResponse("chunk size line over 1 KiB"));
        }
        return Ok(None);
    };
    let line = &rest[..eol];
    // Chunk extensions after ';' are ignored.
    let hex = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if hex.is_empty() || hex.len() > 12 {
        return Err(NetError::BadResponse("malformed chunk size"));
    }
    let mut size = 0usize;
    for &c in hex {
        let d = (c as char)
            .to_digit(16)
            .ok_or(NetError::BadResponse("malformed chunk size"))?;
        size = size * 16 + d as usize;
    }
    Ok(Some((size, at + eol + 2)))
}

/// Joins a chunked body in place; `Some((body_len, framed_len))` once the
/// last chunk and the trailer have arrived.
fn join_chunks(buf: &mut [u8], max_body: usize) -> Result<Option<(usize, usize)>, NetError> {
    // First pass: is it all here? Nothing is moved until it is, so a
    // partial body can be parsed again when more arrives.
    let mut at = 0;
    let mut total = 0usize;
    loop {
        let Some((size, data)) = chunk_line(buf, at)? else {
            return Ok(None);
        };
        if size == 0 {
            // Trailer fields, then an empty line.
            let mut t = data;
            loop {
                let rest = buf.get(t..).unwrap_or_default();
                let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                t += eol + 2;
                if eol == 0 {
                    break;
                }
            }
            let framed = t;
            // Second pass: move each chunk's data down.
            let mut at = 0;
            let mut w = 0;
            while let Some((size, data)) = chunk_line(buf, at)? {
                if size == 0 {
                    break;
                }
                buf.copy_within(data..data + size, w);
                w += size;
                at = data + size + 2;
            }
            return Ok(Some((total, framed)));
        }
        total = total.saturating_add(size);
        if total > max_body {
            return Err(NetError::MessageTooLarge {
                len: total as u64,
                max: max_body,
            });
        }
        let end = data.saturating_add(size);
        match buf.get(end..end + 2) {
            None => return Ok(None),
            Some(b"\r\n") => at = end + 2,
            Some(_) => return Err(NetError::BadResponse("chunk data not followed by CRLF")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<Option<(Parsed, Vec<u8>)>, NetError> {
        let mut buf = text.to_vec();
        let parsed = parse_response(&mut buf, 1 << 20)?;
        Ok(parsed.map(|p| {
            let body = buf[p.body.clone()].to_vec();
            (p, body)
        }))
    }

    #[test]
    fn content_length_and_partial() {
        let r = b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1";
        let (p, body) = parse(r).unwrap().unwrap();
        assert_eq!(
            (p.status, body.as_slice(), p.close),
            (201, &b"hello"[..], false)
        );
        assert_eq!(p.consumed, r.len() - 8);
        for cut in 0..r.len() - 8 {
            assert!(parse(&r[..cut]).unwrap().is_none(), "cut {cut}");
        }
    }

    #[test]
    fn chunked_is_joined_and_partial_waits() {
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nRetry-After: 3\r\n\r\n\
                  4\r\nWiki\r\n6;x=y\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nA: b\r\n\r\nNEXT";
        let (p, body) = parse(r).unwrap().unwrap();
        assert_eq!(body, b"Wikipedia in \r\n\r\nchunks.");
        assert_eq!(p.retry_after_s, Some(3));
        assert_eq!(p.consumed, r.len() - 4);
        for cut in 0..r.len() - 4 {
            assert!(parse(&r[..cut]).unwrap().is_none(), "cut {cut}");
        }
    }

    #[test]
    fn malformed_responses_are_typed_errors() {
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
            b"garbage\r\n\r\n",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let big = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        let mut buf = big.to_vec();
        assert!(matches!(
            parse_response(&mut buf, 10),
            Err(NetError::MessageTooLarge { .. })
        ));
        let (p, _) = parse(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(p.close && p.body.is_empty());
    }
}
