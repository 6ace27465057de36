//! Arbitrary bytes through the TLS record layer's parsers never panic: record
//! framing (header, length limit), post-handshake handshake-message
//! splitting and alert classification. Decryption itself is rustls'; what
//! reaches these parsers after it is the peer's plaintext, which is why they
//! are fuzzed on arbitrary input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_net::record::{HEADER, MAX_CIPHERTEXT, alert, next_handshake_message, whole_record};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some(len)) = whole_record(rest) {
        assert!((HEADER..=HEADER + MAX_CIPHERTEXT).contains(&len) && len <= rest.len());
        let body = &rest[HEADER..len];
        let mut messages = body;
        while !messages.is_empty() {
            let before = messages.len();
            match next_handshake_message(&mut messages) {
                Ok((_, message)) => assert!(messages.len() + 4 + message.len() == before),
                Err(_) => break,
            }
        }
        let _ = alert(true, body);
        let _ = alert(false, body);
        rest = &rest[len..];
    }
});
