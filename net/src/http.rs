//! The HTTP/1.1 side of the WebSocket opening handshake (RFC 6455 §4).
//!
//! The request is written by hand (one buffer, no HTTP library); the response
//! head is parsed with `httparse`. SHA-1 and base64 are implemented here: the
//! handshake needs one 20-byte digest and two short encodings per connect,
//! which does not justify two more dependencies.

use super::NetError;
use std::fmt::Write as _;

/// The GUID RFC 6455 appends to the key before hashing.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Response headers we look at; more is a malformed response.
const MAX_HEADERS: usize = 64;

/// Writes the upgrade request. `extra_headers` go out as given (e.g. the
/// venue's authentication headers); their values are never logged.
pub fn write_upgrade_request(
    out: &mut Vec<u8>,
    host_header: &str,
    path: &str,
    key: &str,
    extra_headers: &[(String, String)],
) {
    let mut head = String::with_capacity(256);
    // Writing into a String cannot fail.
    let _ = write!(
        head,
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (name, value) in extra_headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    out.extend_from_slice(head.as_bytes());
}

/// The outcome of parsing what the server has sent so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeResponse {
    /// The response head is not complete yet.
    Partial,
    /// 101 with the right headers; WebSocket frames start at `head_len`.
    Accepted {
        /// Length of the response head in bytes.
        head_len: usize,
    },
    /// Another status; the body starts at `head_len`.
    Refused {
        /// The HTTP status.
        status: u16,
        /// Length of the response head in bytes.
        head_len: usize,
        /// The `Content-Length`, if given.
        content_length: Option<usize>,
    },
}

/// Parses the upgrade response at the front of `buf` and checks it accepts
/// the upgrade for the key whose expected accept value is `expected_accept`.
pub fn parse_upgrade_response(
    buf: &[u8],
    expected_accept: &str,
) -> Result<UpgradeResponse, NetError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(UpgradeResponse::Partial),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(NetError::Handshake("too many response headers"));
        }
        Err(_) => return Err(NetError::Handshake("malformed HTTP response")),
    };
    let status = response.code.unwrap_or(0);
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    if status != 101 {
        let content_length = header("content-length")
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse().ok());
        return Ok(UpgradeResponse::Refused {
            status,
            head_len,
            content_length,
        });
    }
    if !header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case(b"websocket")) {
        return Err(NetError::Handshake("101 without `Upgrade: websocket`"));
    }
    let connection_upgrade = header("connection").is_some_and(|v| {
        v.split(|&b| b == b',')
            .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"upgrade"))
    });
    if !connection_upgrade {
        return Err(NetError::Handshake("101 without `Connection: Upgrade`"));
    }
    match header("sec-websocket-accept") {
        None => return Err(NetError::Handshake("101 without Sec-WebSocket-Accept")),
        Some(v) if v.trim_ascii() != expected_accept.as_bytes() => {
            return Err(NetError::Handshake(
                "Sec-WebSocket-Accept does not match the key",
            ));
        }
        Some(_) => {}
    }
    if header("sec-websocket-extensions").is_some() {
        return Err(NetError::Handshake(
            "server chose an extension we did not offer",
        ));
    }
    Ok(UpgradeResponse::Accepted { head_len })
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let mut input = Vec::with_capacity(key.len() + WS_GUID.len());
    input.extend_from_slice(key.as_bytes());
    input.extend_from_slice(WS_GUID.as_bytes());
    base64(&sha1(&input))
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-1 (FIPS 180-4). Only for the handshake's accept check, where RFC 6455
/// mandates it; not for anything needing collision resistance.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut padded = data.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&bit_len.to_be_bytes());
    for block in padded.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (state, add) in h.iter_mut().zip([a, b, c, d, e]) {
            *state = state.wrapping_add(add);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_accept_example() {
        // RFC 6455 §1.3 (and §4.2.2 step 5.4).
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn sha1_and_base64_vectors() {
        let hex = |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(hex(sha1(long)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn request_carries_the_required_and_extra_headers() {
        let mut out = Vec::new();
        let extra = [("KALSHI-ACCESS-KEY".to_owned(), "k".to_owned())];
        write_upgrade_request(&mut out, "example.com", "/ws", "abc==", &extra);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("GET /ws HTTP/1.1\r\nHost: example.com\r\n"));
        for line in [
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: abc==",
            "Sec-WebSocket-Version: 13",
            "KALSHI-ACCESS-KEY: k",
        ] {
            assert!(text.contains(&format!("{line}\r\n")), "{line}");
        }
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn response_checks() {
        let accept = accept_key("dGhlIHNhbXBsZSBub25jZQ==");
        let ok = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n\x01\x00"
        );
        let head_len = ok.len() - 2;
        assert_eq!(
            parse_upgrade_response(ok.as_bytes(), &accept).unwrap(),
            UpgradeResponse::Accepted { head_len }
        );
        assert_eq!(
            parse_upgrade_response(&ok.as_bytes()[..20], &accept).unwrap(),
            UpgradeResponse::Partial
        );
        let wrong = ok.replace(&accept, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        assert!(matches!(
            parse_upgrade_response(wrong.as_bytes(), &accept),
            Err(NetError::Handshake(_))
        ));
        let refused = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope!";
        assert_eq!(
            parse_upgrade_response(refused, &accept).unwrap(),
            UpgradeResponse::Refused {
                status: 401,
                head_len: refused.len() - 5,
                content_length: Some(5)
            }
        );
        assert!(matches!(
            parse_upgrade_response(b"garbage\r\n\r\n", &accept),
            Err(NetError::Handshake(_))
        ));
    }
}
