//! RFC 6455 client framing: header codec, masking, message reassembly.
//!
//! Written here rather than taken from `tungstenite` so that a message is a
//! plain `&[u8]` borrowed from the connection's read buffer (or, for a
//! fragmented message, from one reusable reassembly buffer): no owned message
//! type, no reference counts, and the size limit is enforced on the header
//! before a byte of payload is buffered. It also lets mio, rustls and the
//! framing share one read buffer on one thread without tokio.
//!
//! Measured by `tests/net_alloc.rs` (10,000 text messages of ~114 bytes read
//! from memory after 1,000 of warm-up; every 10th message in 3 fragments,
//! a ping before every 50th): tungstenite 0.28 makes 3,000 allocations
//! (0.3 per message: none for a single-frame message, whose payload it splits
//! off its read buffer as refcounted `Bytes`, but 3 for each fragmented
//! message it reassembles); this decoder makes 0.
//!
//! The decoder is pure (bytes in, events out) so it can be fuzzed and
//! property-tested without sockets. It plays the client role: server frames
//! must be unmasked, and every frame we encode is masked. Text payloads are
//! not UTF-8 checked here; venue messages go straight to a JSON parser that
//! validates them anyway. Non-minimal length encodings are accepted.

use super::NetError;
use std::fmt;

/// The largest header: 2 bytes, 8 of extended length, 4 of mask key.
pub const MAX_HEADER: usize = 14;
/// Control frames carry at most 125 bytes (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// Continuation of a fragmented message.
    Continuation,
    /// First (or only) frame of a UTF-8 text message.
    Text,
    /// First (or only) frame of a binary message.
    Binary,
    /// Close, with an optional code and reason.
    Close,
    /// Ping: the receiver answers with a pong carrying the same payload.
    Ping,
    /// Pong.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Result<Opcode, ProtocolError> {
        Ok(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            other => return Err(ProtocolError::BadOpcode(other)),
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// Ways a server can break RFC 6455.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// RSV1-3 set without a negotiated extension.
    ReservedBits,
    /// An opcode RFC 6455 does not define.
    BadOpcode(u8),
    /// A server-to-client frame was masked.
    MaskedServerFrame,
    /// A control frame with more than 125 bytes of payload.
    ControlTooLong,
    /// A control frame without FIN.
    FragmentedControl,
    /// A continuation frame with no message in progress.
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message is in progress.
    ExpectedContinuation,
    /// A 64-bit length with the most significant bit set.
    BadLength,
    /// A close frame with a one-byte payload.
    BadClosePayload,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::ReservedBits => f.write_str("reserved bits set"),
            ProtocolError::BadOpcode(op) => write!(f, "unknown opcode {op:#x}"),
            ProtocolError::MaskedServerFrame => f.write_str("server frame is masked"),
            ProtocolError::ControlTooLong => f.write_str("control frame longer than 125 bytes"),
            ProtocolError::FragmentedControl => f.write_str("fragmented control frame"),
            ProtocolError::UnexpectedContinuation => {
                f.write_str("continuation frame without a message in progress")
            }
            ProtocolError::ExpectedContinuation => {
                f.write_str("new message while a fragmented message is in progress")
            }
            ProtocolError::BadLength => f.write_str("64-bit payload length has its top bit set"),
            ProtocolError::BadClosePayload => f.write_str("close frame with a one-byte payload"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of its message.
    pub fin: bool,
    /// The frame's opcode.
    pub opcode: Opcode,
    /// The mask key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// Header length in bytes (2 to 14).
    pub header_len: usize,
}

/// Decodes the header at the front of `buf`; `Ok(None)` if more bytes are needed.
pub fn parse_header(buf: &[u8]) -> Result<Option<FrameHeader>, ProtocolError> {
    let (b0, b1) = match buf {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Ok(None),
    };
    if b0 & 0x70 != 0 {
        return Err(ProtocolError::ReservedBits);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = Opcode::from_bits(b0 & 0x0F)?;
    let masked = b1 & 0x80 != 0;
    let (payload_len, mut pos) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
            _ => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(bytes) => (u64::from_be_bytes(bytes), 10),
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    if payload_len >> 63 != 0 {
        return Err(ProtocolError::BadLength);
    }
    if opcode.is_control() {
        if !fin {
            return Err(ProtocolError::FragmentedControl);
        }
        if payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(ProtocolError::ControlTooLong);
        }
    }
    let mask = if masked {
        match buf
            .get(pos..pos + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
        {
            Some(key) => {
                pos += 4;
                Some(key)
            }
            None => return Ok(None),
        }
    } else {
        None
    };
    Ok(Some(FrameHeader {
        fin,
        opcode,
        mask,
        payload_len,
        header_len: pos,
    }))
}

/// XORs `data` with `key`, as if `data` started at payload offset 0.
pub fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so key index 0 lines up again.
    for (byte, k) in chunks.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// Appends one masked client frame to `out` (no allocation once `out` has room).
pub fn encode_frame(out: &mut Vec<u8>, opcode: Opcode, fin: bool, mask: [u8; 4], payload: &[u8]) {
    out.push(if fin { 0x80 } else { 0 } | opcode.bits());
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(body) = out.get_mut(start..) {
        apply_mask(body, mask);
    }
}

/// A complete data message, borrowed from the connection's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsMessage<'a> {
    /// A text message (UTF-8 by contract; not validated, see the module docs).
    Text(&'a [u8]),
    /// A binary message.
    Binary(&'a [u8]),
}

impl<'a> WsMessage<'a> {
    /// The payload, whatever the kind.
    pub fn payload(&self) -> &'a [u8] {
        match self {
            WsMessage::Text(p) | WsMessage::Binary(p) => p,
        }
    }
}

/// What one decoded frame meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete text or binary message.
    Message(WsMessage<'a>),
    /// A non-final fragment, absorbed into the reassembly buffer.
    Fragment,
    /// A ping (to be answered with a pong carrying the same payload).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// A close: the status code (if any) and the reason bytes.
    Close {
        /// The close status code; `None` for an empty close payload.
        code: Option<u16>,
        /// The reason (UTF-8 by contract).
        reason: &'a [u8],
    },
}

/// One step of [`MessageReader::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// No complete frame yet; `frame_len` is the whole frame's length once
    /// the header is known, so the caller can make room for it.
    NeedMore {
        /// Total bytes (header + payload) of the pending frame, if known.
        frame_len: Option<usize>,
    },
    /// A frame: `consumed` bytes from the front of the input.
    Frame {
        /// Bytes of input used.
        consumed: usize,
        /// What the frame meant.
        frame: Frame<'a>,
    },
}

/// Decodes server frames and reassembles fragmented messages.
#[derive(Debug)]
pub struct MessageReader {
    max_message: usize,
    fragments: Vec<u8>,
    in_progress: Option<Opcode>,
}

impl MessageReader {
    /// A reader refusing messages longer than `max_message` bytes. The
    /// reassembly buffer starts at up to 4 KiB and grows to the largest
    /// fragmented message seen.
    pub fn new(max_message: usize) -> MessageReader {
        MessageReader {
            max_message,
            fragments: Vec::with_capacity(max_message.min(4096)),
            in_progress: None,
        }
    }

    /// The configured maximum message size.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// Decodes the frame at the front of `buf`. The size limit is checked on
    /// the header, before any payload is buffered.
    pub fn decode<'a>(&'a mut self, buf: &'a [u8]) -> Result<Decoded<'a>, NetError> {
        let Some(header) = parse_header(buf)? else {
            return Ok(Decoded::NeedMore { frame_len: None });
        };
        if header.mask.is_some() {
            return Err(ProtocolError::MaskedServerFrame.into());
        }
        let so_far = match header.opcode {
            Opcode::Continuation => self.fragments.len() as u64,
            _ => 0,
        };
        let total = so_far.saturating_add(header.payload_len);
        if total > self.max_message as u64 {
            return Err(NetError::MessageTooLarge {
                len: total,
                max: self.max_message,
            });
        }
        let Some(frame_len) = usize::try_from(header.payload_len)
            .ok()
            .and_then(|len| len.checked_add(header.header_len))
        else {
            return Err(NetError::MessageTooLarge {
                len: total,
                max: self.max_message,
            });
        };
        let Some(payload) = buf.get(header.header_len..frame_len) else {
            return Ok(Decoded::NeedMore {
                frame_len: Some(frame_len),
            });
        };
        let frame = match (header.opcode, self.in_progress) {
            (Opcode::Ping, _) => Frame::Ping(payload),
            (Opcode::Pong, _) => Frame::Pong(payload),
            (Opcode::Close, _) => match payload {
                [] => Frame::Close {
                    code: None,
                    reason: &[],
                },
                [_] => return Err(ProtocolError::BadClosePayload.into()),
                [hi, lo, reason @ ..] => Frame::Close {
                    code: Some(u16::from_be_bytes([*hi, *lo])),
                    reason,
                },
            },
            (Opcode::Text | Opcode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation.into());
            }
            (Opcode::Continuation, None) => {
                return Err(ProtocolError::UnexpectedContinuation.into());
            }
            (Opcode::Text | Opcode::Binary, None) if header.fin => {
                Frame::Message(message(header.opcode, payload))
            }
            (Opcode::Text | Opcode::Binary, None) => {
                self.fragments.clear();
                self.fragments.extend_from_slice(payload);
                self.in_progress = Some(header.opcode);
                Frame::Fragment
            }
            (Opcode::Continuation, Some(kind)) => {
                self.fragments.extend_from_slice(payload);
                if header.fin {
                    self.in_progress = None;
                    Frame::Message(message(kind, &self.fragments))
                } else {
                    Frame::Fragment
                }
            }
        };
        Ok(Decoded::Frame {
            consumed: frame_len,
            frame,
        })
    }
}

fn message(kind: Opcode, payload: &[u8]) -> WsMessage<'_> {
    match kind {
        Opcode::Binary => WsMessage::Binary(payload),
        _ => WsMessage::Text(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn server_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        match payload.len() {
            n if n < 126 => out.push(n as u8),
            n if n <= 0xFFFF => {
                out.push(126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn reassembles_fragments_around_a_ping() {
        let mut bytes = server_frame(0x1, false, b"hel");
        bytes.extend(server_frame(0x9, true, b"p"));
        bytes.extend(server_frame(0x0, false, b"lo "));
        bytes.extend(server_frame(0x0, true, b"world"));
        let mut reader = MessageReader::new(64);
        let mut pos = 0;
        let mut seen = Vec::new();
        while pos < bytes.len() {
            match reader.decode(&bytes[pos..]).unwrap() {
                Decoded::Frame { consumed, frame } => {
                    pos += consumed;
                    seen.push(format!("{frame:?}"));
                }
                Decoded::NeedMore { .. } => panic!("complete input"),
            }
        }
        assert_eq!(seen[1], format!("{:?}", Frame::Ping(b"p")));
        let last = format!("{:?}", Frame::Message(WsMessage::Text(b"hello world")));
        assert_eq!(seen[3], last);
    }

    #[test]
    fn typed_protocol_errors() {
        let mut reader = MessageReader::new(1 << 20);
        let cases: [(&[u8], ProtocolError); 7] = [
            (&[0xC1, 0x00], ProtocolError::ReservedBits),
            (&[0x83, 0x00], ProtocolError::BadOpcode(3)),
            (
                &[0x81, 0x81, 1, 2, 3, 4, 0],
                ProtocolError::MaskedServerFrame,
            ),
            (&[0x89, 126, 0, 126], ProtocolError::ControlTooLong),
            (&[0x09, 0x00], ProtocolError::FragmentedControl),
            (&[0x80, 0x00], ProtocolError::UnexpectedContinuation),
            (&[0x88, 0x01, 0x03], ProtocolError::BadClosePayload),
        ];
        for (bytes, want) in cases {
            match reader.decode(bytes) {
                Err(NetError::Protocol(got)) => assert_eq!(got, want, "{bytes:?}"),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
        let huge = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            reader.decode(&huge),
            Err(NetError::Protocol(ProtocolError::BadLength))
        ));
    }

    #[test]
    fn size_limit_is_checked_on_the_header() {
        let mut reader = MessageReader::new(100);
        // Only the header of a 1 MiB frame: refused before its payload arrives.
        let header = [0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0];
        assert!(matches!(
            reader.decode(&header),
            Err(NetError::MessageTooLarge {
                len: 0x10_0000,
                max: 100
            })
        ));
        // Fragments add up.
        let first = server_frame(0x2, false, &[0; 60]);
        assert!(matches!(reader.decode(&first), Ok(Decoded::Frame { .. })));
        let second = server_frame(0x0, true, &[0; 60]);
        assert!(matches!(
            reader.decode(&second),
            Err(NetError::MessageTooLarge { len: 120, max: 100 })
        ));
    }

    #[test]
    fn close_frame_code_and_reason() {
        let mut reader = MessageReader::new(100);
        let bytes = server_frame(0x8, true, b"\x03\xe8bye");
        let got = reader.decode(&bytes).unwrap();
        assert_eq!(
            got,
            Decoded::Frame {
                consumed: bytes.len(),
                frame: Frame::Close {
                    code: Some(1000),
                    reason: b"bye"
                }
            }
        );
    }

    proptest! {
        #[test]
        fn encode_parse_round_trip(
            payload in proptest::collection::vec(any::<u8>(), 0..70_000),
            mask in any::<[u8; 4]>(),
            fin in any::<bool>(),
            op in 0usize..3,
        ) {
            let opcode = [Opcode::Continuation, Opcode::Text, Opcode::Binary][op];
            let mut out = Vec::new();
            encode_frame(&mut out, opcode, fin, mask, &payload);
            let header = parse_header(&out).unwrap().unwrap();
            prop_assert_eq!(header.fin, fin);
            prop_assert_eq!(header.opcode, opcode);
            prop_assert_eq!(header.mask, Some(mask));
            prop_assert_eq!(header.payload_len, payload.len() as u64);
            prop_assert_eq!(header.header_len + payload.len(), out.len());
            // Every strict prefix of the header asks for more bytes.
            for cut in 0..header.header_len {
                prop_assert_eq!(parse_header(&out[..cut]).unwrap(), None);
            }
            let body = &mut out[header.header_len..];
            apply_mask(body, mask);
            prop_assert_eq!(&*body, &payload[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut reader = MessageReader::new(256);
            let mut pos = 0;
            while let Ok(Decoded::Frame { consumed, .. }) = reader.decode(&bytes[pos..]) {
                prop_assert!(consumed > 0 && pos + consumed <= bytes.len());
                pos += consumed;
            }
        }

        #[test]
        fn unmasked_stream_decodes_back(
            messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..8),
            split in 1usize..50,
        ) {
            // Each message cut into fragments of `split` bytes.
            let mut bytes = Vec::new();
            for m in &messages {
                let pieces: Vec<&[u8]> = if m.is_empty() { vec![&[][..]] } else { m.chunks(split).collect() };
                for (i, piece) in pieces.iter().enumerate() {
                    let op = if i == 0 { 0x2 } else { 0x0 };
                    bytes.extend(server_frame(op, i + 1 == pieces.len(), piece));
                }
            }
            let mut reader = MessageReader::new(1024);
            let mut pos = 0;
            let mut got = Vec::new();
            while pos < bytes.len() {
                match reader.decode(&bytes[pos..]).unwrap() {
                    Decoded::Frame { consumed, frame } => {
                        pos += consumed;
                        if let Frame::Message(m) = frame {
                            got.push(m.payload().to_vec());
                        }
                    }
                    Decoded::NeedMore { .. } => prop_assert!(false, "complete input"),
                }
            }
            prop_assert_eq!(got, messages);
        }
    }
}
