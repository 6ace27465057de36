//! Request signing for venues that authenticate by key pair: Kalshi's
//! Trade API v2 today.
//!
//! Every private REST request and the WebSocket upgrade carry three headers:
//! [`KEY_HEADER`] (the key id), [`TIMESTAMP_HEADER`] (unix milliseconds as a
//! decimal string) and [`SIGNATURE_HEADER`]: the base64 (standard alphabet,
//! padded) of an RSA-PSS signature, SHA-256 with MGF1-SHA-256 and a 32-byte
//! salt, over [`signed_message`]: timestamp + METHOD + path, the path taken
//! from the root (`/trade-api/v2/...`, or `/trade-api/ws/v2` for the
//! WebSocket) without its query string. The body is not signed.
//!
//! PSS signatures are randomized, so a verifier checks a signature against
//! the public key; it never compares bytes. The private key stays inside
//! [`Signer`], whose `Debug` shows only the key id and size.
//!
//! The signature is ring's RSA-PSS (`RSA_PSS_SHA256`), the crypto library
//! rustls already links here: its private-key operation is BoringSSL's,
//! blinded and constant-time, so it does not carry the timing side channel
//! of the `rsa` crate (RUSTSEC-2023-0071), and it adds no dependency and no
//! C toolchain step beyond the one the TLS stack has. It accepts keys of
//! 2048 to 4096 bits. Signing costs about a millisecond of one core (see
//! BENCHMARKS.md), which is why [`crate::presign`] keeps it off the order
//! path.

use std::fmt;
use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};

/// The header naming the API key.
pub const KEY_HEADER: &str = "KALSHI-ACCESS-KEY";
/// The header holding the request's unix time in milliseconds.
pub const TIMESTAMP_HEADER: &str = "KALSHI-ACCESS-TIMESTAMP";
/// The header holding the base64 RSA-PSS signature.
pub const SIGNATURE_HEADER: &str = "KALSHI-ACCESS-SIGNATURE";

/// The path the WebSocket upgrade signs (method `GET`).
pub const WS_PATH: &str = "/trade-api/ws/v2";

/// The longest key id accepted.
pub const MAX_KEY_ID_LEN: usize = 64;

/// The smallest RSA key accepted for signing, in bits.
pub const MIN_SIGNER_BITS: usize = 2048;

/// The longest signature, base64: a 4096-bit key's 512 bytes.
pub const MAX_SIGNATURE_B64: usize = 684;

/// The message a request signs: `timestamp_ms` + `method` (upper-cased) +
/// `path_and_query` up to, not including, its first `?`.
///
/// `signed_message("1703123456789", "GET", "/trade-api/v2/portfolio/balance?x=1")`
/// is `"1703123456789GET/trade-api/v2/portfolio/balance"`.
pub fn signed_message(timestamp_ms: &str, method: &str, path_and_query: &str) -> String {
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path);
    let mut msg = String::with_capacity(timestamp_ms.len() + method.len() + path.len());
    msg.push_str(timestamp_ms);
    msg.push_str(&method.to_ascii_uppercase());
    msg.push_str(path);
    msg
}

/// The wall clock as unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Checks a key id: 1 to [`MAX_KEY_ID_LEN`] characters of `[A-Za-z0-9._-]`.
/// The error says what is wrong.
pub fn check_key_id(key_id: &str) -> Result<(), String> {
    if key_id.is_empty() {
        return Err("the key id is empty".to_owned());
    }
    if key_id.len() > MAX_KEY_ID_LEN {
        return Err(format!(
            "the key id is {} characters long; at most {MAX_KEY_ID_LEN} are allowed",
            key_id.chars().count()
        ));
    }
    if let Some(c) = key_id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "the key id {key_id:?} contains {c:?}; only A-Z, a-z, 0-9, '.', '_' and '-' are allowed"
        ));
    }
    Ok(())
}

/// Why a signing key could not be loaded; the message names the file and
/// what was wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerError(pub String);

impl fmt::Display for SignerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SignerError {}

/// Signs requests the way a Kalshi client does.
///
/// Its `Debug` output shows the key id and key size, never the key.
pub struct Signer {
    key_id: String,
    bits: usize,
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Loads an unencrypted RSA private key PEM, PKCS#8 (`BEGIN PRIVATE
    /// KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`). Errors name the file.
    pub fn from_pem_file(key_id: &str, path: &Path) -> Result<Signer, SignerError> {
        check_key_id(key_id).map_err(SignerError)?;
        let text = fs::read_to_string(path)
            .map_err(|e| SignerError(format!("reading the private key {}: {e}", path.display())))?;
        Signer::from_pem(key_id, &text, path)
    }

    /// The same from PEM text (a key passed on stdin); `path` names where
    /// it came from in errors.
    pub fn from_pem(key_id: &str, text: &str, path: &Path) -> Result<Signer, SignerError> {
        check_key_id(key_id).map_err(SignerError)?;
        let text = text.trim();
        let malformed = |form: &str, e: &dyn fmt::Display| {
            SignerError(format!(
                "{}: malformed {form} private key PEM: {e}",
                path.display()
            ))
        };
        let pkcs8 = text.contains("-----BEGIN PRIVATE KEY-----");
        let pkcs1 = text.contains("-----BEGIN RSA PRIVATE KEY-----");
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(SignerError(format!(
                "{}: the private key is encrypted; decrypt it first \
                 (openssl pkcs8 -in KEY -out PLAIN)",
                path.display()
            )));
        }
        if !pkcs8 && !pkcs1 {
            return Err(SignerError(format!(
                "{}: not an RSA private key PEM (expected -----BEGIN PRIVATE KEY----- \
                 or -----BEGIN RSA PRIVATE KEY-----)",
                path.display()
            )));
        }
        let form = if pkcs8 {
            "PKCS#8 (BEGIN PRIVATE KEY)"
        } else {
            "PKCS#1 (BEGIN RSA PRIVATE KEY)"
        };
        let item = rustls_pemfile::read_one_from_slice(text.as_bytes())
            .map_err(|e| malformed(form, &format!("{e:?}")))?;
        let key = match item {
            Some((rustls_pemfile::Item::Pkcs8Key(der), _)) => {
                RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
            }
            Some((rustls_pemfile::Item::Pkcs1Key(der), _)) => {
                RsaKeyPair::from_der(der.secret_pkcs1_der())
            }
            _ => return Err(malformed(form, &"no key block could be read")),
        }
        .map_err(|e| key_refused(path, &e))?;
        Ok(Signer::new(key_id, key))
    }

    /// A signer for `key_id` from a PKCS#8 DER private key (a key made in
    /// memory). Errors say why the key was refused.
    pub fn from_pkcs8_der(key_id: &str, der: &[u8]) -> Result<Signer, SignerError> {
        check_key_id(key_id).map_err(SignerError)?;
        let key =
            RsaKeyPair::from_pkcs8(der).map_err(|e| key_refused(Path::new("(PKCS#8 DER)"), &e))?;
        Ok(Signer::new(key_id, key))
    }

    fn new(key_id: &str, key: RsaKeyPair) -> Signer {
        Signer {
            key_id: key_id.to_owned(),
            bits: key.public().modulus_len() * 8,
            key,
            rng: SystemRandom::new(),
        }
    }

    /// The API key id this signer sends.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The key's size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The three authentication headers, name and value, for a request at
    /// `timestamp_ms`.
    pub fn headers(
        &self,
        timestamp_ms: i64,
        method: &str,
        path_and_query: &str,
    ) -> [(&'static str, String); 3] {
        let ts = timestamp_ms.to_string();
        let signature = self.sign(&ts, method, path_and_query);
        [
            (KEY_HEADER, self.key_id.clone()),
            (TIMESTAMP_HEADER, ts),
            (SIGNATURE_HEADER, signature),
        ]
    }

    /// The base64 signature of [`signed_message`]`(timestamp_ms, method,
    /// path_and_query)`. Randomized: two calls give different signatures.
    /// Empty if the system's random source failed (see [`Signer::try_sign`]),
    /// which the venue refuses as unauthenticated.
    pub fn sign(&self, timestamp_ms: &str, method: &str, path_and_query: &str) -> String {
        self.try_sign(timestamp_ms, method, path_and_query)
            .unwrap_or_default()
    }

    /// [`Signer::sign`], with the random source's failure as an error.
    pub fn try_sign(
        &self,
        timestamp_ms: &str,
        method: &str,
        path_and_query: &str,
    ) -> Result<String, SignerError> {
        let message = signed_message(timestamp_ms, method, path_and_query);
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        // The buffer is the modulus length by construction, so ring fails
        // only when the random source does.
        self.key
            .sign(
                &RSA_PSS_SHA256,
                &self.rng,
                message.as_bytes(),
                &mut signature,
            )
            .map_err(|_| {
                SignerError("signing failed: the system random source failed".to_owned())
            })?;
        Ok(BASE64.encode(signature))
    }
}

fn key_refused(path: &Path, e: &ring::error::KeyRejected) -> SignerError {
    SignerError(format!(
        "{}: the RSA key was refused ({e}); a signing key must be an RSA key of \
         {MIN_SIGNER_BITS} to 4096 bits",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_message_drops_the_query_and_uppercases_the_method() {
        assert_eq!(
            signed_message("1703123456789", "GET", "/trade-api/v2/portfolio/balance"),
            "1703123456789GET/trade-api/v2/portfolio/balance"
        );
        assert_eq!(
            signed_message("1", "get", "/trade-api/v2/portfolio/orders?limit=5&x=?"),
            "1GET/trade-api/v2/portfolio/orders"
        );
        assert_eq!(signed_message("2", "GET", WS_PATH), "2GET/trade-api/ws/v2");
        assert_eq!(signed_message("3", "DELETE", "/a?"), "3DELETE/a");
    }
}
