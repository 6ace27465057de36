//! The engine's signer (ring's RSA-PSS) and the presigning housekeeper:
//! every signature verifies against the public key, keys of the wrong kind
//! or size are refused with the file named, and stale signatures are not
//! handed out.

use pt_net::auth::{Signer, signed_message};
use pt_net::presign::{FixedPath, PresignConfig, Presigner};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
use rsa::pss::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap())
}

fn signer() -> Arc<Signer> {
    let der = key().to_pkcs8_der().unwrap();
    Arc::new(Signer::from_pkcs8_der("k1", der.as_bytes()).unwrap())
}

fn verifies(public: &RsaPublicKey, ts: &[u8], method: &str, path: &str, sig_b64: &[u8]) -> bool {
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig_b64)
        .unwrap();
    let message = signed_message(std::str::from_utf8(ts).unwrap(), method, path);
    let verifier = VerifyingKey::<sha2::Sha256>::new(public.clone());
    verifier
        .verify(
            message.as_bytes(),
            &Signature::try_from(sig.as_slice()).unwrap(),
        )
        .is_ok()
}

#[test]
fn signatures_verify_and_pem_forms_load() {
    let public = key().to_public_key();
    let dir = std::env::temp_dir().join(format!("pt-net-sign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pkcs8 = dir.join("k8.pem");
    let pkcs1 = dir.join("k1.pem");
    std::fs::write(
        &pkcs8,
        key().to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(
        &pkcs1,
        key().to_pkcs1_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    for path in [&pkcs8, &pkcs1] {
        let s = Signer::from_pem_file("k1", path).unwrap();
        assert_eq!(s.bits(), 2048);
        let path_q = "/trade-api/v2/portfolio/orders?limit=5";
        let sig = s.sign("1703123456789", "get", path_q);
        assert!(verifies(
            &public,
            b"1703123456789",
            "GET",
            "/trade-api/v2/portfolio/orders",
            sig.as_bytes()
        ));
        // Randomized: a second signature differs and verifies too.
        let again = s.sign("1703123456789", "GET", path_q);
        assert_ne!(sig, again);
        assert!(!verifies(
            &public,
            b"1703123456780",
            "GET",
            "/trade-api/v2/portfolio/orders",
            sig.as_bytes()
        ));
    }
    // Too small a key is refused with the file named.
    let small = RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
    let small_path = dir.join("small.pem");
    std::fs::write(
        &small_path,
        small.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    let err = Signer::from_pem_file("k1", &small_path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("small.pem") && err.contains("2048"), "{err}");
    let err = Signer::from_pem(
        "k1",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        Path::new("x.pem"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("x.pem"), "{err}");
    let dbg = format!("{:?}", signer());
    assert_eq!(dbg, r#"Signer { key_id: "k1", bits: 2048, .. }"#);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn presigner_keeps_fixed_and_order_paths_signed() {
    let public = key().to_public_key();
    let create = "/trade-api/v2/portfolio/events/orders";
    let cancel = "/trade-api/v2/portfolio/events/orders/batched";
    let paths = vec![
        FixedPath {
            method: "POST",
            path: create.to_owned(),
        },
        FixedPath {
            method: "DELETE",
            path: cancel.to_owned(),
        },
    ];
    let config = PresignConfig {
        refresh: Duration::from_millis(30),
        max_age: Duration::from_millis(2_000),
        max_orders: 8,
    };
    let mut p = Presigner::start(signer(), paths, config);
    let now = pt_net::auth::now_ms();
    // Ready at once, before the first refresh.
    let first = *p.fixed(0, now).expect("signed at start");
    assert!(verifies(
        &public,
        first.timestamp(),
        "POST",
        create,
        first.signature()
    ));
    let c = *p.fixed(1, now).unwrap();
    assert!(verifies(
        &public,
        c.timestamp(),
        "DELETE",
        cancel,
        c.signature()
    ));
    assert!(p.fixed(2, now).is_none());
    // Refreshed: a later timestamp arrives.
    let later = wait_for(|| {
        let n = pt_net::auth::now_ms();
        p.fixed(0, n)
            .filter(|s| s.timestamp_ms > first.timestamp_ms)
            .copied()
    });
    assert!(verifies(
        &public,
        later.timestamp(),
        "POST",
        create,
        later.signature()
    ));
    // Too old for the caller's clock: refused.
    assert!(p.fixed(0, later.timestamp_ms + 2_000).is_none());
    // A per-order path: signed until forgotten.
    let amend = "/trade-api/v2/portfolio/events/orders/abc-123/amend";
    assert!(p.keep_signed(7, "POST", amend.as_bytes()));
    let (tag, sig) = wait_for(|| p.take_order());
    assert_eq!(tag, 7);
    assert!(verifies(
        &public,
        sig.timestamp(),
        "POST",
        amend,
        sig.signature()
    ));
    p.forget(7);
    std::thread::sleep(Duration::from_millis(100));
    while p.take_order().is_some() {}
    std::thread::sleep(Duration::from_millis(100));
    assert!(p.take_order().is_none(), "a forgotten path is still signed");
    assert!(!p.keep_signed(8, "POST", &[b'a'; 200]));
    assert_eq!(p.refused_asks(), 1);
}
