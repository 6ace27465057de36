//! The TLS record layer once the handshake is done.
//!
//! rustls negotiates the session: certificates, key exchange, the handshake
//! records. Then it hands over the traffic keys
//! (`dangerous_into_kernel_connection`), and from there this module reads
//! and writes the records itself. Each received record is decrypted in place
//! in the transport's input buffer, so the stream allocates nothing per
//! record. rustls 0.23's own connections copy every received record's
//! plaintext into a fresh `Vec`.
//!
//! The cryptography stays rustls': the negotiated suite's `MessageDecrypter`
//! and `MessageEncrypter` derive the nonce from the sequence number, build
//! the additional data, and strip TLS 1.3's padding and inner content type.
//! The rest is ours:
//! - record headers and the size limit;
//! - sequence numbers;
//! - post-handshake messages: TLS 1.3 `NewSessionTicket` (passed to rustls,
//!   which stores it for resumption) and `KeyUpdate` (new receive keys from
//!   rustls, and our own `KeyUpdate` when the peer asks for one); TLS 1.2
//!   `HelloRequest`, which declines renegotiation by being ignored (RFC 5246
//!   §7.4.1.1);
//! - alerts: `close_notify` ends the stream, a warning is ignored, anything
//!   else is an error naming the alert.
//!
//! Sent records: rustls' encrypter returns each sealed record in a fresh
//! buffer, so TLS 1.3 records are sealed here instead, with ring (the AEAD
//! rustls itself uses), straight into the transport's output buffer. A test
//! checks that the bytes equal rustls' for the same key, IV and sequence
//! number. TLS 1.2 records still go through rustls' encrypter: one
//! allocation per sent record on such a connection.

use ring::aead::{self, LessSafeKey, UnboundKey};
use rustls::client::ClientConnectionData;
use rustls::crypto::cipher::{AeadKey, InboundOpaqueMessage, Iv};
use rustls::crypto::cipher::{
    MessageDecrypter, MessageEncrypter, OutboundChunks, OutboundPlainMessage,
};
use rustls::kernel::KernelConnection;
use rustls::{
    AlertDescription, ConnectionTrafficSecrets, ContentType, Error, ExtractedSecrets,
    InvalidMessage, PeerMisbehaved, ProtocolVersion, SupportedCipherSuite,
};
use std::ops::Range;

/// Bytes in a record header: type, version, length.
pub const HEADER: usize = 5;
/// The largest ciphertext a record may carry (RFC 5246 §6.2.3: 2^14 + 2048;
/// TLS 1.3's limit, 2^14 + 256, is checked again after decryption).
pub const MAX_CIPHERTEXT: usize = 16_384 + 2_048;
/// The largest plaintext one sent record carries.
pub const MAX_FRAGMENT: usize = 16_384;

const HANDSHAKE_HELLO_REQUEST: u8 = 0;
const HANDSHAKE_NEW_SESSION_TICKET: u8 = 4;
const HANDSHAKE_KEY_UPDATE: u8 = 24;
const ALERT_WARNING: u8 = 1;
const ALERT_CLOSE_NOTIFY: u8 = 0;
const ALERT_USER_CANCELED: u8 = 90;

/// The length of the whole record at the front of `buf`, if it is all there.
pub fn whole_record(buf: &[u8]) -> Result<Option<usize>, Error> {
    let Some(&[_, _, _, hi, lo]) = buf.first_chunk::<HEADER>() else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len > MAX_CIPHERTEXT {
        return Err(Error::PeerSentOversizedRecord);
    }
    Ok((buf.len() >= HEADER + len).then_some(HEADER + len))
}

/// What an alert means: `close_notify` ends the stream, a warning is
/// ignored (TLS 1.3 knows only `user_canceled` as one), anything else is an
/// error naming the alert.
pub fn alert(tls13: bool, payload: &[u8]) -> Result<Opened, Error> {
    match *payload {
        [_, ALERT_CLOSE_NOTIFY] => Ok(Opened::Closed),
        [ALERT_WARNING, ALERT_USER_CANCELED] => Ok(Opened::Handled),
        [ALERT_WARNING, _] if !tls13 => Ok(Opened::Handled),
        [_, description] => Err(Error::AlertReceived(AlertDescription::from(description))),
        _ => Err(InvalidMessage::MessageTooShort.into()),
    }
}

/// Splits the first handshake message (type, body) off `messages`. A
/// message cut short is refused: servers send session tickets and key
/// updates whole, so messages split across records are not reassembled.
pub fn next_handshake_message<'a>(messages: &mut &'a [u8]) -> Result<(u8, &'a [u8]), Error> {
    let &[typ, a, b, c, ref rest @ ..] = *messages else {
        return Err(InvalidMessage::MessageTooShort.into());
    };
    let len = u32::from_be_bytes([0, a, b, c]) as usize;
    let (Some(body), Some(after)) = (rest.get(..len), rest.get(len..)) else {
        return Err(InvalidMessage::MessageTooShort.into());
    };
    *messages = after;
    Ok((typ, body))
}

/// What one received record turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// Application data at this range of the record's body.
    Data(Range<usize>),
    /// A control message, handled (a session ticket, a key update, a warning).
    Handled,
    /// The peer's `close_notify`: no more data will come.
    Closed,
}

/// What a TLS connection has done since its handshake, for the operator's
/// view and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsStats {
    /// The negotiated cipher suite.
    pub suite: rustls::CipherSuite,
    /// TLS 1.3 (or else 1.2).
    pub tls13: bool,
    /// Records received and decrypted after the handshake.
    pub records_in: u64,
    /// Records sealed and sent after the handshake.
    pub records_out: u64,
    /// `KeyUpdate`s received (TLS 1.3).
    pub key_updates_in: u32,
    /// `KeyUpdate`s sent: answers to the peer's requests, or at the suite's
    /// record limit.
    pub key_updates_out: u32,
    /// Session tickets received and stored for resumption (TLS 1.3).
    pub tickets: u32,
}

/// Keys, sequence numbers and rustls' remaining connection state (for
/// session tickets and key updates) for one established TLS connection.
pub(crate) struct RecordLayer {
    kernel: KernelConnection<ClientConnectionData>,
    suite: SupportedCipherSuite,
    rx: Box<dyn MessageDecrypter>,
    rx_seq: u64,
    tx: Sealer,
    tx_seq: u64,
    /// Records the suite may seal under one key (rustls' figure).
    tx_limit: u64,
    stats: TlsStats,
}

impl std::fmt::Debug for RecordLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys are deliberately left out.
        f.debug_struct("RecordLayer")
            .field("suite", &self.suite.suite())
            .field("rx_seq", &self.rx_seq)
            .field("tx_seq", &self.tx_seq)
            .finish_non_exhaustive()
    }
}

impl RecordLayer {
    pub(crate) fn new(
        secrets: ExtractedSecrets,
        kernel: KernelConnection<ClientConnectionData>,
    ) -> Result<RecordLayer, Error> {
        let suite = kernel.negotiated_cipher_suite();
        let ExtractedSecrets {
            tx: (tx_seq, tx),
            rx: (rx_seq, rx),
        } = secrets;
        let tx_limit = match suite {
            SupportedCipherSuite::Tls13(s) => s.common.confidentiality_limit,
            SupportedCipherSuite::Tls12(s) => s.common.confidentiality_limit,
        };
        let tls13 = matches!(suite, SupportedCipherSuite::Tls13(_));
        Ok(RecordLayer {
            stats: TlsStats {
                suite: suite.suite(),
                tls13,
                records_in: 0,
                records_out: 0,
                key_updates_in: 0,
                key_updates_out: 0,
                tickets: 0,
            },
            rx: decrypter(suite, rx)?,
            rx_seq,
            tx: encrypter(suite, tx)?,
            tx_seq,
            tx_limit,
            suite,
            kernel,
        })
    }

    pub(crate) fn stats(&self) -> TlsStats {
        self.stats
    }

    /// Decrypts one record in place: `header` is its 5-byte header, `body`
    /// its ciphertext. Replies the record calls for (our `KeyUpdate`) are
    /// sealed onto `out`.
    pub(crate) fn open(
        &mut self,
        header: &[u8],
        body: &mut [u8],
        out: &mut Vec<u8>,
    ) -> Result<Opened, Error> {
        let &[typ, major, minor, ..] = header else {
            return Err(InvalidMessage::MessageTooShort.into());
        };
        let typ = ContentType::from(typ);
        if self.stats.tls13 && typ != ContentType::ApplicationData {
            // TLS 1.3 wraps every record after the handshake as application data.
            return Err(PeerMisbehaved::IllegalTlsInnerPlaintext.into());
        }
        if !matches!(
            typ,
            ContentType::ApplicationData | ContentType::Handshake | ContentType::Alert
        ) {
            return Err(InvalidMessage::InvalidContentType.into());
        }
        let version = ProtocolVersion::from(u16::from_be_bytes([major, minor]));
        let start = body.as_ptr() as usize;
        let seq = self.rx_seq;
        let plain = self
            .rx
            .decrypt(InboundOpaqueMessage::new(typ, version, body), seq)?;
        self.rx_seq += 1;
        self.stats.records_in += 1;
        let at = plain.payload.as_ptr() as usize - start;
        let range = at..at + plain.payload.len();
        match plain.typ {
            ContentType::ApplicationData => Ok(Opened::Data(range)),
            ContentType::Alert => alert(self.stats.tls13, plain.payload),
            ContentType::Handshake => {
                self.on_handshake(plain.payload, out)?;
                Ok(Opened::Handled)
            }
            _ => Err(InvalidMessage::InvalidContentType.into()),
        }
    }

    /// Handles the handshake messages in one record.
    fn on_handshake(&mut self, mut messages: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        while !messages.is_empty() {
            let (typ, body) = next_handshake_message(&mut messages)?;
            match typ {
                HANDSHAKE_NEW_SESSION_TICKET if self.stats.tls13 => {
                    self.kernel.handle_new_session_ticket(body)?;
                    self.stats.tickets += 1;
                }
                HANDSHAKE_KEY_UPDATE if self.stats.tls13 => {
                    // RFC 8446 §5.1: a key change must end its record.
                    if !messages.is_empty() {
                        return Err(PeerMisbehaved::KeyEpochWithPendingFragment.into());
                    }
                    let requested = match *body {
                        [0] => false,
                        [1] => true,
                        _ => return Err(InvalidMessage::InvalidKeyUpdate.into()),
                    };
                    let (seq, secrets) = self.kernel.update_rx_secret()?;
                    self.rx = decrypter(self.suite, secrets)?;
                    self.rx_seq = seq;
                    self.stats.key_updates_in += 1;
                    if requested {
                        self.update_tx(out)?;
                    }
                }
                HANDSHAKE_HELLO_REQUEST if !self.stats.tls13 && body.is_empty() => {}
                _ => {
                    return Err(InvalidMessage::UnexpectedMessage(
                        "handshake message after the handshake",
                    )
                    .into());
                }
            }
        }
        Ok(())
    }

    /// Seals `payload` as application data records onto `out`.
    pub(crate) fn seal_data(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        for chunk in payload.chunks(MAX_FRAGMENT) {
            if self.tx_seq >= self.tx_limit {
                if !self.stats.tls13 {
                    return Err(Error::EncryptError);
                }
                self.update_tx(out)?;
            }
            self.seal(ContentType::ApplicationData, chunk, out)?;
        }
        Ok(())
    }

    /// Seals a `close_notify` alert onto `out`.
    pub(crate) fn seal_close_notify(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.seal(
            ContentType::Alert,
            &[ALERT_WARNING, ALERT_CLOSE_NOTIFY],
            out,
        )
    }

    /// Sends our `KeyUpdate` under the old key, then switches to the next one.
    fn update_tx(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.seal(
            ContentType::Handshake,
            &[HANDSHAKE_KEY_UPDATE, 0, 0, 1, 0],
            out,
        )?;
        let (seq, secrets) = self.kernel.update_tx_secret()?;
        self.tx = encrypter(self.suite, secrets)?;
        self.tx_seq = seq;
        self.stats.key_updates_out += 1;
        Ok(())
    }

    fn seal(&mut self, typ: ContentType, payload: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.tx.seal(typ, payload, self.tx_seq, out)?;
        self.tx_seq += 1;
        self.stats.records_out += 1;
        Ok(())
    }
}

/// Seals records for sending.
// The whole layer lives in one box; the key stays inline beside its IV.
#[allow(clippy::large_enum_variant)]
enum Sealer {
    /// TLS 1.3: our own sealing into the caller's buffer (no allocation).
    Tls13 { key: LessSafeKey, iv: [u8; 12] },
    /// TLS 1.2: rustls' encrypter.
    Rustls(Box<dyn MessageEncrypter>),
}

impl Sealer {
    /// RFC 8446 §5.2: the record is `[23, 3, 3, len]` then the AEAD of
    /// `payload || type` under the nonce `iv XOR seq`, with the header as
    /// additional data.
    fn seal(
        &mut self,
        typ: ContentType,
        payload: &[u8],
        seq: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        match self {
            Sealer::Rustls(encrypter) => {
                let message = OutboundPlainMessage {
                    typ,
                    version: ProtocolVersion::TLSv1_2,
                    payload: OutboundChunks::Single(payload),
                };
                out.extend_from_slice(&encrypter.encrypt(message, seq)?.encode());
                Ok(())
            }
            Sealer::Tls13 { key, iv } => {
                let tag_len = key.algorithm().tag_len();
                let len =
                    u16::try_from(payload.len() + 1 + tag_len).map_err(|_| Error::EncryptError)?;
                let [hi, lo] = len.to_be_bytes();
                let header = [u8::from(ContentType::ApplicationData), 3, 3, hi, lo];
                let mut nonce = *iv;
                for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
                    *n ^= s;
                }
                let mark = out.len();
                out.extend_from_slice(&header);
                out.extend_from_slice(payload);
                out.push(u8::from(typ));
                let sealed = out.get_mut(mark + HEADER..).unwrap_or_default();
                match key.seal_in_place_separate_tag(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::from(header),
                    sealed,
                ) {
                    Ok(tag) => {
                        out.extend_from_slice(tag.as_ref());
                        Ok(())
                    }
                    Err(_) => {
                        out.truncate(mark);
                        Err(Error::EncryptError)
                    }
                }
            }
        }
    }
}

fn key_and_iv(secrets: ConnectionTrafficSecrets) -> Result<(AeadKey, Iv), Error> {
    match secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
        | ConnectionTrafficSecrets::Aes256Gcm { key, iv }
        | ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => Ok((key, iv)),
        #[allow(unreachable_patterns)]
        _ => Err(Error::General("unsupported traffic key kind".to_owned())),
    }
}

/// TLS 1.2 splits the 12-byte IV rustls hands over into the part fixed by
/// the key block (4 bytes for AES-GCM, 12 for ChaCha20) and the explicit
/// nonce's starting value.
fn split_iv(suite: &rustls::Tls12CipherSuite, iv: &Iv) -> (usize, [u8; 12]) {
    let mut bytes = [0u8; 12];
    bytes.copy_from_slice(iv.as_ref());
    let fixed = suite.aead_alg.key_block_shape().fixed_iv_len.min(12);
    (fixed, bytes)
}

fn decrypter(
    suite: SupportedCipherSuite,
    secrets: ConnectionTrafficSecrets,
) -> Result<Box<dyn MessageDecrypter>, Error> {
    let (key, iv) = key_and_iv(secrets)?;
    Ok(match suite {
        SupportedCipherSuite::Tls13(s) => s.aead_alg.decrypter(key, iv),
        SupportedCipherSuite::Tls12(s) => {
            let (fixed, bytes) = split_iv(s, &iv);
            s.aead_alg.decrypter(key, &bytes[..fixed])
        }
    })
}

fn encrypter(
    suite: SupportedCipherSuite,
    secrets: ConnectionTrafficSecrets,
) -> Result<Sealer, Error> {
    let algorithm = match &secrets {
        ConnectionTrafficSecrets::Aes128Gcm { .. } => &aead::AES_128_GCM,
        ConnectionTrafficSecrets::Aes256Gcm { .. } => &aead::AES_256_GCM,
        ConnectionTrafficSecrets::Chacha20Poly1305 { .. } => &aead::CHACHA20_POLY1305,
        #[allow(unreachable_patterns)]
        _ => return Err(Error::General("unsupported traffic key kind".to_owned())),
    };
    let (key, iv) = key_and_iv(secrets)?;
    Ok(match suite {
        SupportedCipherSuite::Tls13(_) => {
            let key = UnboundKey::new(algorithm, key.as_ref())
                .map_err(|_| Error::General("traffic key of the wrong length".to_owned()))?;
            let mut bytes = [0u8; 12];
            bytes.copy_from_slice(iv.as_ref());
            Sealer::Tls13 {
                key: LessSafeKey::new(key),
                iv: bytes,
            }
        }
        SupportedCipherSuite::Tls12(s) => {
            let (fixed, bytes) = split_iv(s, &iv);
            let (fixed_part, explicit) = bytes.split_at(fixed);
            Sealer::Rustls(s.aead_alg.encrypter(key, fixed_part, explicit))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::ring::cipher_suite;

    /// Our TLS 1.3 sealing produces exactly rustls' bytes, and rustls'
    /// decrypter opens them back to the payload and content type. (The
    /// suites with 32-byte keys: rustls makes shorter `AeadKey`s only
    /// itself. AES-128-GCM is covered over real connections in
    /// `tests/net_tls.rs`.)
    #[test]
    fn tls13_sealing_equals_rustls() {
        let suites = [
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ];
        let key: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(7));
        let iv: [u8; 12] = std::array::from_fn(|i| (i as u8) * 13 + 1);
        for suite in suites {
            let SupportedCipherSuite::Tls13(s) = suite else {
                unreachable!()
            };
            let secrets = s
                .aead_alg
                .extract_keys(AeadKey::from(key), Iv::new(iv))
                .unwrap();
            let mut ours = encrypter(suite, secrets).unwrap();
            let mut theirs = s.aead_alg.encrypter(AeadKey::from(key), Iv::new(iv));
            let mut decrypter = s.aead_alg.decrypter(AeadKey::from(key), Iv::new(iv));
            let messages = [
                (ContentType::ApplicationData, &b"hello"[..]),
                (ContentType::Handshake, &[24, 0, 0, 1, 0][..]),
                (ContentType::Alert, &[1, 0][..]),
                (ContentType::ApplicationData, &[0xAB; 300][..]),
            ];
            for (i, (typ, payload)) in messages.into_iter().enumerate() {
                let seq = i as u64 * 1_000_003;
                let mut out = vec![0xEE];
                ours.seal(typ, payload, seq, &mut out).unwrap();
                let message = OutboundPlainMessage {
                    typ,
                    version: ProtocolVersion::TLSv1_2,
                    payload: OutboundChunks::Single(payload),
                };
                let expected = theirs.encrypt(message, seq).unwrap().encode();
                assert_eq!(&out[1..], &expected[..], "{suite:?} seq {seq}");
                let body = &mut out[1 + HEADER..];
                let opaque = InboundOpaqueMessage::new(
                    ContentType::ApplicationData,
                    ProtocolVersion::TLSv1_2,
                    body,
                );
                let plain = decrypter.decrypt(opaque, seq).unwrap();
                assert_eq!((plain.typ, plain.payload), (typ, payload));
            }
        }
    }

    #[test]
    fn whole_record_waits_for_the_body_and_refuses_oversized_lengths() {
        assert_eq!(whole_record(&[23, 3, 3, 0]).unwrap(), None);
        assert_eq!(whole_record(&[23, 3, 3, 0, 2, 9]).unwrap(), None);
        assert_eq!(whole_record(&[23, 3, 3, 0, 2, 9, 9, 1]).unwrap(), Some(7));
        let [hi, lo] = u16::try_from(MAX_CIPHERTEXT + 1).unwrap().to_be_bytes();
        assert_eq!(
            whole_record(&[23, 3, 3, hi, lo]),
            Err(Error::PeerSentOversizedRecord)
        );
    }
}
