//! Kalshi REST responses as the live venue reads them: the HTTP/1.1
//! response parser (heads, lengths, chunked bodies joined in place) and the
//! V2 order bodies (acks, both error shapes, batched results). Any input
//! gives a value or a typed error; nothing panics, and a parsed body lies
//! inside the buffer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_gateway::kalshi::wire;
use pt_net::http1::parse_response;

fuzz_target!(|data: &[u8]| {
    let mut buf = data.to_vec();
    if let Ok(Some(parsed)) = parse_response(&mut buf, 1 << 16) {
        assert!(parsed.body.end <= parsed.consumed && parsed.consumed <= buf.len());
        let body = &buf[parsed.body.clone()];
        let _ = wire::parse_ack(body);
        let _ = wire::parse_error(body);
        let _ = wire::parse_batch(body, |_| {});
    }
    let _ = wire::parse_ack(data);
    let _ = wire::parse_error(data);
    let _ = wire::parse_batch(data, |_| {});
});
