//! `pt sim`'s request signatures against an independent implementation:
//! vectors signed by Python's `cryptography` (tests/data/pss_vectors.json,
//! made by tests/data/make_pss_vectors.py) must verify here, and signatures
//! made here must verify in Python.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use pt_sim::auth::{
    self, AuthError, KEY_HEADER, KeyStore, SIGNATURE_HEADER, Signer, TIMESTAMP_HEADER, UserId,
};
use pt_tests::TestDir;
use rsa::pkcs1::{EncodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;

const WINDOW: i64 = 5_000;

#[derive(Debug)]
struct Vector {
    timestamp: String,
    method: String,
    path: String,
    message: String,
    signature: String,
}

#[derive(Debug)]
struct Vectors {
    public_key_pem: String,
    private_key_pem: String,
    vectors: Vec<Vector>,
    wrong_salt: Vec<Vector>,
}

fn vectors() -> &'static Vectors {
    static V: OnceLock<Vectors> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pss_vectors.json");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k}")).to_owned();
        let list = |k: &str| -> Vec<Vector> {
            doc[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| Vector {
                    timestamp: s(v, "timestamp"),
                    method: s(v, "method"),
                    path: s(v, "path"),
                    message: s(v, "message"),
                    signature: s(v, "signature"),
                })
                .collect()
        };
        Vectors {
            public_key_pem: s(&doc, "public_key_pem"),
            private_key_pem: s(&doc, "private_key_pem"),
            vectors: list("vectors"),
            wrong_salt: list("wrong_salt_vectors"),
        }
    })
}

fn python_public_key() -> RsaPublicKey {
    RsaPublicKey::from_public_key_pem(&vectors().public_key_pem).unwrap()
}

/// The one key this test binary generates (besides `keygen`'s).
fn other_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap())
}

/// A store whose key "py" (user 1) is the Python vectors' key.
fn python_store() -> KeyStore {
    let mut store = KeyStore::empty();
    assert_eq!(store.insert("py", python_public_key()), 1);
    store
}

fn check(
    store: &KeyStore,
    v: &Vector,
    ts: &str,
    method: &str,
    path: &str,
    sig: &str,
) -> Result<UserId, AuthError> {
    let now: i64 = v.timestamp.parse().unwrap();
    store.verify(Some("py"), Some(ts), Some(sig), method, path, now, WINDOW)
}

fn mkdir(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
}

#[test]
fn python_vectors_verify() {
    let v = vectors();
    assert!(v.vectors.len() >= 6);
    let store = python_store();
    for x in &v.vectors {
        assert_eq!(
            auth::signed_message(&x.timestamp, &x.method, &x.path),
            x.message
        );
        let now: i64 = x.timestamp.parse().unwrap();
        let got = store.verify(
            Some("py"),
            Some(&x.timestamp),
            Some(&x.signature),
            &x.method,
            &x.path,
            now,
            0,
        );
        assert_eq!(got, Ok(1), "{}", x.message);
    }
    // The set covers what the exchange must accept.
    let has = |method: &str, prefix: &str| {
        v.vectors
            .iter()
            .any(|x| x.method == method && x.path.starts_with(prefix))
    };
    assert!(has("POST", "/trade-api/v2/portfolio/events/orders"));
    assert!(has("DELETE", "/trade-api/v2/portfolio/events/orders/"));
    assert!(has("GET", auth::WS_PATH));
    assert!(v.vectors.iter().any(|x| x.path.contains('?')));
}

#[test]
fn altered_python_vectors_are_rejected() {
    let store = python_store();
    let bad = Err(AuthError::BadSignature);
    for (i, x) in vectors().vectors.iter().enumerate() {
        let (ts, m, p, s) = (&*x.timestamp, &*x.method, &*x.path, &*x.signature);
        // A flipped bit, at a different place in each vector.
        let mut raw = base64_decode(s);
        let at = (i * 37 + 5) % raw.len();
        raw[at] ^= 1 << (i % 8);
        assert_eq!(
            check(&store, x, ts, m, p, &base64_encode(&raw)),
            bad,
            "bit {i}"
        );
        // Another timestamp (still inside the window).
        let ts2 = (ts.parse::<i64>().unwrap() + 1).to_string();
        assert_eq!(check(&store, x, &ts2, m, p, s), bad);
        // Another method.
        let m2 = if m == "GET" { "POST" } else { "GET" };
        assert_eq!(check(&store, x, ts, m2, p, s), bad);
        // Another path.
        let (path, query) = p.split_once('?').unwrap_or((p, ""));
        assert_eq!(check(&store, x, ts, m, &format!("{path}/"), s), bad);
        assert_eq!(check(&store, x, ts, m, &path.replace("/v2", "/v1"), s), bad);
        // The query is not signed: adding, changing or dropping it is fine.
        assert_eq!(
            check(&store, x, ts, m, &format!("{path}?limit=1&cursor=abc"), s),
            Ok(1)
        );
        assert_eq!(check(&store, x, ts, m, path, s), Ok(1));
        assert_eq!(
            check(&store, x, ts, m, &format!("{path}?{query}&z=1"), s),
            Ok(1)
        );
        // The method is compared upper-cased, as it is signed.
        assert_eq!(check(&store, x, ts, &m.to_lowercase(), p, s), Ok(1));
    }
    // The body is not signed: `verify` does not even take one, and the POST
    // vectors (whose bodies Python never saw) verify above.

    // The same signature under another key id's key.
    let mut other = KeyStore::empty();
    other.insert("py", other_key().to_public_key());
    for x in &vectors().vectors {
        let got = check(&other, x, &x.timestamp, &x.method, &x.path, &x.signature);
        assert_eq!(got, bad, "{}", x.message);
    }
    // Valid PSS signatures with a salt length other than 32.
    assert!(!vectors().wrong_salt.is_empty());
    for x in &vectors().wrong_salt {
        assert_eq!(
            auth::signed_message(&x.timestamp, &x.method, &x.path),
            x.message
        );
        let got = check(&store, x, &x.timestamp, &x.method, &x.path, &x.signature);
        assert_eq!(got, bad);
    }
}

#[test]
fn header_problems_give_the_right_errors() {
    let store = python_store();
    let x = &vectors().vectors[0];
    let now: i64 = x.timestamp.parse().unwrap();
    let (k, t, s) = (
        Some("py"),
        Some(x.timestamp.as_str()),
        Some(x.signature.as_str()),
    );
    let verify = |k: Option<&str>, t: Option<&str>, s: Option<&str>, now: i64| {
        store.verify(k, t, s, &x.method, &x.path, now, WINDOW)
    };
    assert_eq!(verify(k, t, s, now), Ok(1));
    assert_eq!(
        verify(None, t, s, now),
        Err(AuthError::MissingHeader(KEY_HEADER))
    );
    assert_eq!(
        verify(k, None, s, now),
        Err(AuthError::MissingHeader(TIMESTAMP_HEADER))
    );
    assert_eq!(
        verify(k, t, None, now),
        Err(AuthError::MissingHeader(SIGNATURE_HEADER))
    );
    assert_eq!(
        verify(Some(""), t, s, now),
        Err(AuthError::MissingHeader(KEY_HEADER))
    );
    assert_eq!(
        verify(None, None, None, now),
        Err(AuthError::MissingHeader(KEY_HEADER))
    );
    assert_eq!(
        verify(Some("nobody"), t, s, now),
        Err(AuthError::UnknownKey("nobody".into()))
    );
    assert_eq!(
        verify(k, Some("yesterday"), s, now),
        Err(AuthError::BadTimestamp("yesterday".into()))
    );
    // Inside the window, both ways, then just outside it.
    assert_eq!(verify(k, t, s, now + WINDOW), Ok(1));
    assert_eq!(verify(k, t, s, now - WINDOW), Ok(1));
    assert_eq!(
        verify(k, t, s, now + WINDOW + 1),
        Err(AuthError::StaleTimestamp {
            skew_ms: -WINDOW - 1
        })
    );
    assert_eq!(
        verify(k, t, s, now - WINDOW - 1),
        Err(AuthError::StaleTimestamp {
            skew_ms: WINDOW + 1
        })
    );
    // Seconds instead of milliseconds is far in the past.
    let secs = (now / 1000).to_string();
    assert!(matches!(
        verify(k, Some(&secs), s, now),
        Err(AuthError::StaleTimestamp { skew_ms }) if skew_ms < -1_000_000_000
    ));
    for bad in ["%%%", "ab=c", "abcde", "QUJD*", "QUJDRA=x", "QUJ-"] {
        assert_eq!(
            verify(k, t, Some(bad), now),
            Err(AuthError::BadSignatureEncoding),
            "{bad}"
        );
    }
    // Well-formed base64 of the wrong length is simply a bad signature.
    assert_eq!(
        verify(k, t, Some("QUJD"), now),
        Err(AuthError::BadSignature)
    );

    // Messages name the header and never echo the signature.
    for err in [
        verify(k, t, None, now),
        verify(Some("nobody"), t, s, now),
        verify(k, Some("yesterday"), s, now),
        verify(k, t, s, now + WINDOW + 1),
        verify(k, t, Some("%%%"), now),
        verify(k, Some(&(now + 1).to_string()), s, now),
    ] {
        let err = err.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("KALSHI-ACCESS-"), "{msg}");
        assert!(!msg.contains(&x.signature[..16]), "{msg}");
        assert!(!err.code().is_empty());
    }
}

/// Requests our signer signs in the Python cross-check.
fn requests() -> Vec<(i64, &'static str, &'static str)> {
    vec![
        (1_703_123_456_789, "GET", "/trade-api/v2/portfolio/balance"),
        (
            1_703_123_456_790,
            "POST",
            "/trade-api/v2/portfolio/events/orders",
        ),
        (
            1_703_123_457_001,
            "DELETE",
            "/trade-api/v2/portfolio/events/orders/6f1c2e8a-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
        ),
        (1_703_123_458_000, "GET", auth::WS_PATH),
        (
            1_703_123_459_123,
            "GET",
            "/trade-api/v2/portfolio/orders?status=resting",
        ),
        (
            1_766_000_000_000,
            "PUT",
            "/trade-api/v2/portfolio/events/orders/x/amend",
        ),
    ]
}

const PY_VERIFY: &str = r#"
import base64, json, sys
try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
except ImportError as e:
    print("the Python module `cryptography` is not installed:", e)
    sys.exit(3)
doc = json.load(open(sys.argv[1]))
checked = failed = 0
for key in doc["keys"]:
    pub = serialization.load_pem_public_key(key["public_key_pem"].encode())
    for item in key["items"]:
        try:
            pub.verify(
                base64.b64decode(item["signature"], validate=True),
                item["message"].encode(),
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                            salt_length=padding.PSS.DIGEST_LENGTH),
                hashes.SHA256(),
            )
            ok = True
        except InvalidSignature:
            ok = False
        checked += 1
        if ok != item["valid"]:
            failed += 1
            print("MISMATCH", key["name"], item["message"], "verified" if ok else "rejected")
print("checked", checked, "failed", failed)
sys.exit(1 if failed else 0)
"#;

#[test]
fn our_signatures_verify_here_and_in_python() {
    let dir = TestDir::new("sim-auth-python");
    mkdir(&dir);
    // The Python key through a PKCS#8 file; our own key through PKCS#1.
    let py_pem = dir.join("py.pem");
    std::fs::write(&py_pem, &vectors().private_key_pem).unwrap();
    let rs_pem = dir.join("rs.pem");
    std::fs::write(
        &rs_pem,
        other_key().to_pkcs1_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    let signers = [
        (
            "py",
            Signer::from_pem_file("py", &py_pem).unwrap(),
            python_public_key(),
        ),
        (
            "rs",
            Signer::from_pem_file("rs", &rs_pem).unwrap(),
            other_key().to_public_key(),
        ),
    ];

    let mut keys = Vec::new();
    for (name, signer, public) in &signers {
        assert_eq!(signer.key_id(), *name);
        let mut store = KeyStore::empty();
        store.insert(name, public.clone());
        let mut items = Vec::new();
        for (ts, method, path) in requests() {
            let headers = signer.headers(ts, method, path);
            let [
                (KEY_HEADER, k),
                (TIMESTAMP_HEADER, t),
                (SIGNATURE_HEADER, s),
            ] = &headers
            else {
                panic!("header order: {headers:?}");
            };
            assert_eq!(k, name);
            assert_eq!(t, &ts.to_string());
            let got = store.verify(Some(k), Some(t), Some(s), method, path, ts, WINDOW);
            assert_eq!(got, Ok(1), "{method} {path}");
            let message = auth::signed_message(t, method, path);
            items.push(serde_json::json!({ "message": message, "signature": s, "valid": true }));
            // A sanity check that the Python side can fail.
            items.push(serde_json::json!({
                "message": format!("{message}x"), "signature": s, "valid": false
            }));
        }
        keys.push(serde_json::json!({
            "name": name,
            "public_key_pem": public.to_public_key_pem(LineEnding::LF).unwrap(),
            "items": items,
        }));
    }
    let json_path = dir.join("ours.json");
    std::fs::write(&json_path, serde_json::json!({ "keys": keys }).to_string()).unwrap();

    let out = match Command::new("python3")
        .arg("-c")
        .arg(PY_VERIFY)
        .arg(&json_path)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("NOTICE: skipping the Python cross-check: cannot run `python3`: {e}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        eprintln!("NOTICE: skipping the Python cross-check: {}", stdout.trim());
        return;
    }
    assert!(out.status.success(), "python3 failed:\n{stdout}\n{stderr}");
    let expected = format!("checked {} failed 0", 2 * 2 * requests().len());
    assert!(stdout.contains(&expected), "{stdout}");
}

#[test]
fn signer_rejects_bad_private_key_files() {
    let dir = TestDir::new("sim-auth-signer");
    mkdir(&dir);
    let cases = [
        ("garbage.pem", "hello\n".to_owned()),
        ("public.pem", vectors().public_key_pem.clone()),
        (
            "broken.pem",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_owned(),
        ),
    ];
    for (name, text) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let err = Signer::from_pem_file("k", &path).unwrap_err().to_string();
        assert!(err.contains(name), "{err}");
    }
    let missing = dir.join("missing.pem");
    let err = format!("{:#}", Signer::from_pem_file("k", &missing).unwrap_err());
    assert!(err.contains("missing.pem"), "{err}");
    // Debug shows no key material.
    let key = RsaPrivateKey::from_pkcs8_pem(&vectors().private_key_pem).unwrap();
    let signer = auth::signer_for("py", &key);
    let dbg = format!("{signer:?}");
    assert!(
        dbg.contains("py") && !dbg.contains("inner") && dbg.len() < 60,
        "{dbg}"
    );
}

#[test]
fn keygen_then_load_dir() {
    let dir = TestDir::new("sim-auth-keygen");
    mkdir(&dir);
    let keys = dir.join("keys"); // keygen creates it
    let private = dir.join("alice.pem");
    let (public_path, private_path) = auth::keygen("alice", &keys, &private).unwrap();
    assert_eq!(public_path, keys.join("alice.pub.pem"));
    assert_eq!(private_path, private);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        std::fs::read_to_string(&private)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(
        std::fs::read_to_string(&public_path)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );

    // Refuses to overwrite either file, naming it, and leaves both intact.
    let before = std::fs::read(&private).unwrap();
    let err = auth::keygen("alice", &keys, &dir.join("other.pem"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("alice.pub.pem") && err.contains("already exists"),
        "{err}"
    );
    let err = auth::keygen("carol", &keys, &private)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("alice.pem") && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(std::fs::read(&private).unwrap(), before);
    assert!(!keys.join("carol.pub.pem").exists());
    assert!(!dir.join("other.pem").exists());
    assert!(auth::keygen("bad id", &keys, &dir.join("x.pem")).is_err());

    // Add the Python key as SPKI and the other key as PKCS#1, plus files
    // that are not public keys and are ignored.
    std::fs::write(keys.join("zed.pub.pem"), &vectors().public_key_pem).unwrap();
    let pkcs1 = other_key()
        .to_public_key()
        .to_pkcs1_pem(LineEnding::LF)
        .unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    std::fs::write(keys.join("bob.pub.pem"), pkcs1).unwrap();
    std::fs::write(keys.join("README"), "not a key").unwrap();
    std::fs::write(keys.join("alice.pem.bak"), "not a key").unwrap();
    mkdir(&keys.join("sub.pub.pem"));

    let store = KeyStore::load_dir(&keys).unwrap();
    assert_eq!(store.len(), 3);
    assert_eq!(
        store.users().collect::<Vec<_>>(),
        [("alice", 1), ("bob", 2), ("zed", 3)]
    );

    // The generated private key signs what its public key verifies.
    let signer = Signer::from_pem_file("alice", &private).unwrap();
    let path = "/trade-api/v2/portfolio/balance";
    let [(_, k), (_, t), (_, s)] = signer.headers(1_000, "GET", path);
    assert_eq!(
        store.verify(Some(&k), Some(&t), Some(&s), "GET", path, 1_000, 0),
        Ok(1)
    );
    // ...and nobody else's.
    assert_eq!(
        store.verify(Some("bob"), Some(&t), Some(&s), "GET", path, 1_000, 0),
        Err(AuthError::BadSignature)
    );
    // A Python vector verifies as zed.
    let x = &vectors().vectors[1];
    let now = x.timestamp.parse().unwrap();
    let got = store.verify(
        Some("zed"),
        Some(&x.timestamp),
        Some(&x.signature),
        &x.method,
        &x.path,
        now,
        0,
    );
    assert_eq!(got, Ok(3));
}

#[test]
fn load_dir_errors_name_the_file() {
    let dir = TestDir::new("sim-auth-loaddir");
    mkdir(&dir);
    // An empty directory is an empty store.
    let store = KeyStore::load_dir(&dir).unwrap();
    assert!(store.is_empty());
    assert_eq!(store.users().count(), 0);
    // A missing one is an error naming it.
    let err = format!("{:#}", KeyStore::load_dir(&dir.join("nope")).unwrap_err());
    assert!(err.contains("nope"), "{err}");

    let mut body = vectors().public_key_pem.clone();
    body.replace_range(40..48, "!!!!!!!!");
    let cases = [
        ("broken.pub.pem", body),
        ("empty.pub.pem", String::new()),
        ("text.pub.pem", "just text".to_owned()),
        ("private.pub.pem", vectors().private_key_pem.clone()),
        ("bad id.pub.pem", vectors().public_key_pem.clone()),
        (".pub.pem", vectors().public_key_pem.clone()),
        (
            &format!("{}.pub.pem", "k".repeat(65)),
            vectors().public_key_pem.clone(),
        ),
    ];
    for (i, (name, text)) in cases.into_iter().enumerate() {
        let sub = dir.join(format!("case-{i}"));
        mkdir(&sub);
        std::fs::write(sub.join("good.pub.pem"), &vectors().public_key_pem).unwrap();
        std::fs::write(sub.join(name), text).unwrap();
        let err = format!("{:#}", KeyStore::load_dir(&sub).unwrap_err());
        assert!(err.contains(name), "{name}: {err}");
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
