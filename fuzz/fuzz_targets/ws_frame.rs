//! Arbitrary bytes through the WebSocket client's decoders never panic: the
//! frame parser with message reassembly (small size limit, so the limit path
//! is hit), the header parser alone, and the HTTP upgrade response check.
//! Every decoded frame consumes at least one byte and stays in bounds, and a
//! delivered message never exceeds the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_net::http::{UpgradeResponse, parse_upgrade_response};
use pt_net::ws::{Decoded, Frame, MessageReader, parse_header};

const MAX_MESSAGE: usize = 1024;

fuzz_target!(|data: &[u8]| {
    let mut reader = MessageReader::new(MAX_MESSAGE);
    let mut pos = 0;
    while let Some(rest) = data.get(pos..) {
        match reader.decode(rest) {
            Ok(Decoded::Frame { consumed, frame }) => {
                assert!(consumed > 0 && consumed <= rest.len());
                if let Frame::Message(m) = frame {
                    assert!(m.payload().len() <= MAX_MESSAGE);
                }
                pos += consumed;
            }
            Ok(Decoded::NeedMore { .. }) | Err(_) => break,
        }
    }
    if let Ok(Some(header)) = parse_header(data) {
        assert!(header.header_len <= data.len() && header.header_len <= 14);
    }
    let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    match parse_upgrade_response(data, accept) {
        Ok(UpgradeResponse::Accepted { head_len } | UpgradeResponse::Refused { head_len, .. }) => {
            assert!(head_len <= data.len());
        }
        Ok(UpgradeResponse::Partial) | Err(_) => {}
    }
});
