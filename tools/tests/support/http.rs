//! A plain HTTP/1.1 GET over loopback, for the control server's tests.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `GET path` on `addr`: the status and the body (`None` when nothing
/// answers).
pub fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    response(raw)
}

/// `GET path` on `addr` over TLS with `tls`'s trust: the status and the
/// body (`None` when no handshake or no answer).
pub fn get_tls(
    addr: SocketAddr,
    path: &str,
    tls: &pt_control::tls::ClientTls,
) -> Option<(u16, String)> {
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let conn = rustls::ClientConnection::new(tls.http(), tls.name().clone()).ok()?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    s.flush().ok()?;
    let mut raw = Vec::new();
    // The server may close without a TLS close_notify; what came is kept.
    let _ = s.read_to_end(&mut raw);
    response(raw)
}

fn response(raw: Vec<u8>) -> Option<(u16, String)> {
    let text = String::from_utf8(raw).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_owned()
    };
    Some((status, body))
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// `GET path` as JSON.
pub fn get_json(addr: SocketAddr, path: &str) -> Option<(u16, serde_json::Value)> {
    let (status, body) = get(addr, path)?;
    Some((status, serde_json::from_str(&body).ok()?))
}
