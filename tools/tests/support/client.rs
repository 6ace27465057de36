//! Test helpers around [`pt_sim::client`].

use pt_sim::auth::Signer;
#[allow(unused_imports)] // not every test crate uses the client
pub use pt_sim::client::*;
use serde_json::Value;

/// The throwaway RSA key in `tests/data/pss_vectors.json` (made by Python's
/// `cryptography`), and a signer for it.
pub fn test_signer(key_id: &str) -> (Signer, rsa::RsaPublicKey) {
    use rsa::pkcs8::DecodePrivateKey as _;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/pss_vectors.json"
    ))
    .expect("read tests/data/pss_vectors.json");
    let v: Value = serde_json::from_str(&text).expect("vectors are JSON");
    let pem = v["private_key_pem"].as_str().expect("private_key_pem");
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| {
            use rsa::pkcs1::DecodeRsaPrivateKey as _;
            rsa::RsaPrivateKey::from_pkcs1_pem(pem)
        })
        .expect("test private key");
    let public = key.to_public_key();
    (pt_sim::auth::signer_for(key_id, &key), public)
}
