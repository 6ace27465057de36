//! API keys and request signatures, as Kalshi's Trade API v2 does them.
//!
//! Every private REST request and the WebSocket upgrade carry three headers:
//! [`KEY_HEADER`] (the key id), [`TIMESTAMP_HEADER`] (unix milliseconds as a
//! decimal string) and [`SIGNATURE_HEADER`]: the base64 (standard alphabet,
//! padded) of an RSA-PSS signature, SHA-256 with MGF1-SHA-256 and a 32-byte
//! salt, over [`signed_message`]: timestamp + METHOD + path, the path taken
//! from the root (`/trade-api/v2/...`, or `/trade-api/ws/v2` for the
//! WebSocket) without its query string. The body is not signed.
//!
//! PSS signatures are randomized, so a signature is checked by verifying it
//! against the public key, never by comparing bytes.
//!
//! The server side is [`KeyStore`]: the public keys of a directory, each an
//! account ([`UserId`]). The client side is [`Signer`]. [`keygen`] makes a
//! key pair for `pt sim keygen`.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::{DecodePublicKey as _, EncodePrivateKey as _};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::pss::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// An account on the simulated exchange. 0 is the exchange's own background
/// liquidity; API keys are users 1 and up.
pub type UserId = u32;

pub use pt_net::auth::{
    KEY_HEADER, MAX_KEY_ID_LEN, SIGNATURE_HEADER, Signer, SignerError, TIMESTAMP_HEADER, WS_PATH,
    check_key_id, now_ms, signed_message,
};

/// The size of the keys [`keygen`] makes, in bits.
const KEYGEN_BITS: usize = 2048;

/// The suffix of a public key file in a key directory.
const PUB_SUFFIX: &str = ".pub.pem";

/// Why a request's authentication headers were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The named header is absent or empty.
    MissingHeader(&'static str),
    /// No key has this id (the id as sent, cut to 64 characters).
    UnknownKey(String),
    /// The timestamp is not a non-negative decimal integer (the value as
    /// sent, cut to 32 characters).
    BadTimestamp(String),
    /// The timestamp is outside the accepted window. `skew_ms` is
    /// timestamp − server clock: positive when the request claims to come
    /// from the future.
    StaleTimestamp {
        /// Timestamp minus the server's clock, in milliseconds.
        skew_ms: i64,
    },
    /// The signature header is not standard base64.
    BadSignatureEncoding,
    /// The signature does not verify for this key and message.
    BadSignature,
}

impl AuthError {
    /// A short snake_case code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingHeader(_) => "missing_parameters",
            AuthError::UnknownKey(_) => "invalid_api_key",
            AuthError::BadTimestamp(_) => "invalid_timestamp",
            AuthError::StaleTimestamp { .. } => "timestamp_out_of_range",
            AuthError::BadSignatureEncoding | AuthError::BadSignature => "invalid_signature",
        }
    }

    /// A human-readable message naming the header and what is wrong with
    /// it. It never contains the signature.
    pub fn message(&self) -> String {
        match self {
            AuthError::MissingHeader(header) => format!("missing header {header}"),
            AuthError::UnknownKey(key_id) => {
                format!("{KEY_HEADER}: no API key has the id {key_id:?}")
            }
            AuthError::BadTimestamp(value) => format!(
                "{TIMESTAMP_HEADER}: {value:?} is not a unix time in milliseconds \
                 (a non-negative decimal integer)"
            ),
            AuthError::StaleTimestamp { skew_ms } => {
                let (amount, direction) = if *skew_ms >= 0 {
                    (skew_ms.unsigned_abs(), "ahead of")
                } else {
                    (skew_ms.unsigned_abs(), "behind")
                };
                format!(
                    "{TIMESTAMP_HEADER}: the timestamp is {amount} ms {direction} the \
                     server clock, outside the accepted window"
                )
            }
            AuthError::BadSignatureEncoding => {
                format!("{SIGNATURE_HEADER}: the signature is not valid base64")
            }
            AuthError::BadSignature => format!(
                "{SIGNATURE_HEADER}: the signature does not verify (expected RSA-PSS \
                 SHA-256, salt length 32, over timestamp + METHOD + path without the query)"
            ),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for AuthError {}

/// `s` cut to at most `max` characters, for echoing untrusted header values.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_owned(),
    }
}

/// One API key.
struct KeyEntry {
    user: UserId,
    bits: usize,
    verifier: VerifyingKey<Sha256>,
}

/// The API keys the exchange accepts, each mapped to its [`UserId`].
///
/// Its `Debug` output lists key ids, users and key sizes only.
pub struct KeyStore {
    keys: BTreeMap<String, KeyEntry>,
    next_user: UserId,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Key<'a>(&'a str, &'a KeyEntry);
        impl fmt::Debug for Key<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "{} => user {} (RSA-{})",
                    self.0, self.1.user, self.1.bits
                )
            }
        }
        f.debug_struct("KeyStore")
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|(id, e)| Key(id, e))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for KeyStore {
    fn default() -> Self {
        KeyStore::empty()
    }
}

impl KeyStore {
    /// A store with no keys.
    pub fn empty() -> KeyStore {
        KeyStore {
            keys: BTreeMap::new(),
            next_user: 1,
        }
    }

    /// Loads every `<key-id>.pub.pem` file in `dir` (not its
    /// subdirectories): an RSA public key as SPKI (`BEGIN PUBLIC KEY`) or
    /// PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM. Users are numbered from 1 in
    /// sorted key-id order. Files with other names are ignored; a
    /// `.pub.pem` file with a bad key id or contents is an error naming the
    /// file. An empty directory gives an empty store.
    pub fn load_dir(dir: &Path) -> anyhow::Result<KeyStore> {
        let entries = fs::read_dir(dir)
            .with_context(|| format!("reading the key directory {}", dir.display()))?;
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        for entry in entries {
            let entry =
                entry.with_context(|| format!("reading the key directory {}", dir.display()))?;
            let path = entry.path();
            let name = entry.file_name();
            if !name.as_encoded_bytes().ends_with(PUB_SUFFIX.as_bytes()) {
                continue;
            }
            let meta =
                fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
            if !meta.is_file() {
                continue;
            }
            let Some(name) = name.to_str() else {
                bail!("{}: the file name is not valid UTF-8", path.display());
            };
            let key_id = &name[..name.len() - PUB_SUFFIX.len()];
            check_key_id(key_id).map_err(|e| {
                anyhow!(
                    "{}: {e} (a public key file is named <key-id>{PUB_SUFFIX})",
                    path.display()
                )
            })?;
            found.push((key_id.to_owned(), path));
        }
        found.sort();
        let mut store = KeyStore::empty();
        for (key_id, path) in found {
            let key = read_public_key(&path)?;
            store.insert(&key_id, key);
        }
        Ok(store)
    }

    /// Adds `key_id` with `public_key` and returns its user: the next unused
    /// number, or the existing user if the id is already present (its key is
    /// replaced).
    ///
    /// # Panics
    /// If `key_id` fails [`check_key_id`].
    pub fn insert(&mut self, key_id: &str, public_key: RsaPublicKey) -> UserId {
        if let Err(e) = check_key_id(key_id) {
            panic!("KeyStore::insert: {e}");
        }
        let bits = public_key.size() * 8;
        let verifier = VerifyingKey::<Sha256>::new(public_key);
        if let Some(entry) = self.keys.get_mut(key_id) {
            entry.bits = bits;
            entry.verifier = verifier;
            return entry.user;
        }
        let user = self.next_user;
        self.next_user += 1;
        self.keys.insert(
            key_id.to_owned(),
            KeyEntry {
                user,
                bits,
                verifier,
            },
        );
        user
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every key id with its user, in key-id order.
    pub fn users(&self) -> impl Iterator<Item = (&str, UserId)> {
        self.keys.iter().map(|(id, e)| (id.as_str(), e.user))
    }

    /// The user of `key_id`, if it is known.
    pub fn user(&self, key_id: &str) -> Option<UserId> {
        self.keys.get(key_id).map(|e| e.user)
    }

    /// Verifies one request's headers (`None` for an absent header) and
    /// returns its user. `method` and `path_and_query` are the request's;
    /// the query is not signed. `now_ms` is the server's clock and
    /// `window_ms` the accepted |timestamp − now| (inclusive).
    ///
    /// Checks run cheapest first: headers present, key known, timestamp
    /// well-formed and in the window, signature base64, then the signature.
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &self,
        key_id: Option<&str>,
        timestamp: Option<&str>,
        signature_b64: Option<&str>,
        method: &str,
        path_and_query: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<UserId, AuthError> {
        let key_id = present(key_id, KEY_HEADER)?;
        let timestamp = present(timestamp, TIMESTAMP_HEADER)?;
        let signature_b64 = present(signature_b64, SIGNATURE_HEADER)?;

        let entry = self
            .keys
            .get(key_id)
            .ok_or_else(|| AuthError::UnknownKey(clip(key_id, MAX_KEY_ID_LEN)))?;

        let ts = parse_timestamp(timestamp)
            .ok_or_else(|| AuthError::BadTimestamp(clip(timestamp, 32)))?;
        let skew_ms = ts.saturating_sub(now_ms);
        if skew_ms.unsigned_abs() > window_ms.max(0).unsigned_abs() {
            return Err(AuthError::StaleTimestamp { skew_ms });
        }

        // A signature is exactly the key's size; anything much longer is not
        // worth decoding.
        if signature_b64.len() > 4 * (entry.bits / 8).div_ceil(3) + 4 {
            return Err(AuthError::BadSignature);
        }
        let raw = BASE64
            .decode(signature_b64.trim())
            .map_err(|_| AuthError::BadSignatureEncoding)?;
        let signature = Signature::try_from(raw.as_slice()).map_err(|_| AuthError::BadSignature)?;
        let message = signed_message(timestamp, method, path_and_query);
        entry
            .verifier
            .verify(message.as_bytes(), &signature)
            .map_err(|_| AuthError::BadSignature)?;
        Ok(entry.user)
    }
}

/// `value` if it is present and not empty.
fn present<'a>(value: Option<&'a str>, header: &'static str) -> Result<&'a str, AuthError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(AuthError::MissingHeader(header)),
    }
}

/// A non-negative decimal integer of ASCII digits only (no sign, no spaces).
fn parse_timestamp(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads one public key file, SPKI or PKCS#1 PEM; errors name the file.
fn read_public_key(path: &Path) -> anyhow::Result<RsaPublicKey> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let text = text.trim();
    let key = if text.contains("-----BEGIN PUBLIC KEY-----") {
        RsaPublicKey::from_public_key_pem(text).map_err(|e| {
            anyhow!(
                "{}: malformed SPKI public key PEM (BEGIN PUBLIC KEY): {e}",
                path.display()
            )
        })?
    } else if text.contains("-----BEGIN RSA PUBLIC KEY-----") {
        RsaPublicKey::from_pkcs1_pem(text).map_err(|e| {
            anyhow!(
                "{}: malformed PKCS#1 public key PEM (BEGIN RSA PUBLIC KEY): {e}",
                path.display()
            )
        })?
    } else if text.contains("PRIVATE KEY-----") {
        bail!(
            "{}: holds a private key; the key directory must hold only public keys",
            path.display()
        );
    } else {
        bail!(
            "{}: not an RSA public key PEM (expected -----BEGIN PUBLIC KEY----- \
             or -----BEGIN RSA PUBLIC KEY-----)",
            path.display()
        );
    };
    Ok(key)
}

/// `pt sim keygen`: makes an RSA-2048 key pair for `key_id`. Writes the
/// public key (SPKI PEM) to `<keys_dir>/<key_id>.pub.pem`, creating
/// `keys_dir` if needed, and the private key (unencrypted PKCS#8 PEM) to
/// `private_out` with mode 0600. Neither file may exist already: the error
/// names the one that does. Returns `(public key path, private key path)`.
pub fn keygen(
    key_id: &str,
    keys_dir: &Path,
    private_out: &Path,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    check_key_id(key_id).map_err(|e| anyhow!("{e}"))?;
    let public_out = keys_dir.join(format!("{key_id}{PUB_SUFFIX}"));
    // Fail fast, before the slow key generation; create_new below is what
    // actually guarantees nothing is overwritten.
    for path in [&public_out, private_out] {
        if fs::symlink_metadata(path).is_ok() {
            bail!(
                "{} already exists; refusing to overwrite it",
                path.display()
            );
        }
    }
    fs::create_dir_all(keys_dir)
        .with_context(|| format!("creating the key directory {}", keys_dir.display()))?;

    let key = RsaPrivateKey::new(&mut rand::thread_rng(), KEYGEN_BITS)
        .context("generating an RSA-2048 key")?;
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("encoding the private key")?;
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .context("encoding the public key")?;

    write_new(private_out, private_pem.as_bytes(), true)?;
    if let Err(e) = write_new(&public_out, public_pem.as_bytes(), false) {
        // Do not leave a private key with no public half behind.
        let _ = fs::remove_file(private_out);
        return Err(e);
    }
    Ok((public_out, private_out.to_owned()))
}

/// The engine's [`Signer`] for a key made in memory (tests, `pt demo`,
/// benches).
///
/// # Panics
/// If the key is not an RSA key of 2048 to 4096 bits or cannot be encoded
/// (keys made here are 2048 bits).
pub fn signer_for(key_id: &str, key: &RsaPrivateKey) -> Signer {
    let der = key.to_pkcs8_der().expect("encoding an RSA key as PKCS#8");
    Signer::from_pkcs8_der(key_id, der.as_bytes()).expect("a 2048- to 4096-bit RSA key")
}

/// Writes a file that must not exist yet; `private` makes it mode 0600.
fn write_new(path: &Path, contents: &[u8], private: bool) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!(
                "{} already exists; refusing to overwrite it",
                path.display()
            )
        } else {
            anyhow!("creating {}: {e}", path.display())
        }
    })?;
    #[cfg(unix)]
    if private {
        // The mode above is filtered by the umask; make sure.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .with_context(|| format!("setting mode 0600 on {}", path.display()))?;
    }
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One RSA-2048 key for the whole unit-test binary.
    fn key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap())
    }

    fn store_and_signer() -> (KeyStore, Signer) {
        let mut store = KeyStore::empty();
        assert_eq!(store.insert("alice", key().to_public_key()), 1);
        (store, signer_for("alice", key()))
    }

    const NOW: i64 = 1_703_123_456_789;
    const WINDOW: i64 = 5_000;

    #[test]
    fn key_ids() {
        for good in [
            "a",
            "A-z_0.9",
            "6f1c2e8a-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
            "k".repeat(64).as_str(),
        ] {
            assert_eq!(check_key_id(good), Ok(()), "{good}");
        }
        for bad in ["", "a b", "a/b", "ключ", "a\n", "k".repeat(65).as_str()] {
            assert!(check_key_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn round_trip_and_every_rejection() {
        let (store, signer) = store_and_signer();
        let path = "/trade-api/v2/portfolio/balance";
        let ts = NOW.to_string();
        let sig = signer.sign(&ts, "GET", path);
        let verify = |k: Option<&str>, t: Option<&str>, s: Option<&str>, m: &str, p: &str| {
            store.verify(k, t, s, m, p, NOW, WINDOW)
        };
        let (k, t, s) = (Some("alice"), Some(ts.as_str()), Some(sig.as_str()));
        assert_eq!(verify(k, t, s, "GET", path), Ok(1));
        assert_eq!(verify(k, t, s, "GET", &format!("{path}?a=b")), Ok(1));
        assert_eq!(verify(k, t, s, "POST", path), Err(AuthError::BadSignature));
        assert_eq!(
            verify(None, t, s, "GET", path),
            Err(AuthError::MissingHeader(KEY_HEADER))
        );
        assert_eq!(
            verify(k, Some(""), s, "GET", path),
            Err(AuthError::MissingHeader(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify(k, t, None, "GET", path),
            Err(AuthError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            verify(Some("bob"), t, s, "GET", path),
            Err(AuthError::UnknownKey("bob".into()))
        );
        for bad in [
            "abc",
            "-1",
            "+1703123456789",
            " 1703123456789",
            "1.5",
            "99999999999999999999",
        ] {
            assert_eq!(
                verify(k, Some(bad), s, "GET", path),
                Err(AuthError::BadTimestamp(bad.into()))
            );
        }
        assert_eq!(
            verify(k, t, Some("not base64!"), "GET", path),
            Err(AuthError::BadSignatureEncoding)
        );
        assert_eq!(
            verify(k, t, Some(&"A".repeat(4000)), "GET", path),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(k, t, Some("AAAA"), "GET", path),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn the_window_is_inclusive_and_both_ways() {
        let (store, signer) = store_and_signer();
        let path = "/trade-api/v2/portfolio/positions";
        for (ts, expect) in [
            (NOW - WINDOW, Ok(1)),
            (NOW + WINDOW, Ok(1)),
            (
                NOW - WINDOW - 1,
                Err(AuthError::StaleTimestamp {
                    skew_ms: -WINDOW - 1,
                }),
            ),
            (
                NOW + WINDOW + 1,
                Err(AuthError::StaleTimestamp {
                    skew_ms: WINDOW + 1,
                }),
            ),
            (0, Err(AuthError::StaleTimestamp { skew_ms: -NOW })),
        ] {
            let [(_, k), (_, t), (_, s)] = signer.headers(ts, "GET", path);
            let got = store.verify(Some(&k), Some(&t), Some(&s), "GET", path, NOW, WINDOW);
            assert_eq!(got, expect, "ts {ts}");
        }
        // A timestamp near i64::MAX does not overflow.
        let got = store.verify(
            Some("alice"),
            Some(&i64::MAX.to_string()),
            Some("AAAA"),
            "GET",
            path,
            -5,
            WINDOW,
        );
        assert_eq!(got, Err(AuthError::StaleTimestamp { skew_ms: i64::MAX }));
    }

    #[test]
    fn signatures_are_randomized_and_headers_are_complete() {
        let (_, signer) = store_and_signer();
        let a = signer.sign("1", "GET", "/x");
        let b = signer.sign("1", "GET", "/x");
        assert_ne!(a, b);
        assert_eq!(BASE64.decode(&a).unwrap().len(), 256);
        let h = signer.headers(42, "get", "/x");
        assert_eq!(h[0], (KEY_HEADER, "alice".to_owned()));
        assert_eq!(h[1], (TIMESTAMP_HEADER, "42".to_owned()));
        assert_eq!(h[2].0, SIGNATURE_HEADER);
    }

    #[test]
    fn errors_have_codes_and_messages_without_the_signature() {
        let cases = [
            (AuthError::MissingHeader(KEY_HEADER), "missing_parameters"),
            (AuthError::UnknownKey("bob".into()), "invalid_api_key"),
            (AuthError::BadTimestamp("x".into()), "invalid_timestamp"),
            (
                AuthError::StaleTimestamp { skew_ms: -7 },
                "timestamp_out_of_range",
            ),
            (AuthError::BadSignatureEncoding, "invalid_signature"),
            (AuthError::BadSignature, "invalid_signature"),
        ];
        for (err, code) in cases {
            assert_eq!(err.code(), code);
            assert_eq!(err.to_string(), err.message());
            assert!(err.message().contains("KALSHI-ACCESS-"), "{err}");
        }
        assert!(
            AuthError::StaleTimestamp { skew_ms: -7 }
                .message()
                .contains("7 ms behind")
        );
        // Untrusted values are cut short.
        let (store, _) = store_and_signer();
        let long = "k".repeat(500);
        let Err(AuthError::UnknownKey(echo)) =
            store.verify(Some(&long), Some("1"), Some("AAAA"), "GET", "/", 1, WINDOW)
        else {
            panic!("expected UnknownKey")
        };
        assert!(echo.len() < 80);
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let (store, signer) = store_and_signer();
        let signer_dbg = format!("{signer:?}");
        let store_dbg = format!("{store:?}");
        assert_eq!(signer_dbg, r#"Signer { key_id: "alice", bits: 2048, .. }"#);
        assert_eq!(store_dbg, "KeyStore { keys: [alice => user 1 (RSA-2048)] }");
    }

    #[test]
    fn insert_numbers_users_and_keeps_ids_on_replace() {
        let mut store = KeyStore::empty();
        assert!(store.is_empty());
        let pk = key().to_public_key();
        assert_eq!(store.insert("b", pk.clone()), 1);
        assert_eq!(store.insert("a", pk.clone()), 2);
        assert_eq!(store.insert("b", pk), 1);
        assert_eq!(store.len(), 2);
        assert_eq!(store.users().collect::<Vec<_>>(), [("a", 2), ("b", 1)]);
        assert_eq!(store.user("a"), Some(2));
        assert_eq!(store.user("c"), None);
    }
}
