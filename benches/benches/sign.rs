//! One request signature: the engine's signer (ring's RSA-PSS, blinded and
//! constant-time) against the `rsa` crate's blinded PSS signer (the peer,
//! RUSTSEC-2023-0071), on the same 2048-bit key; and the order thread's
//! cost of taking a presigned signature instead.
//!
//! `cargo bench -p pt-benches --bench sign`

use criterion::{Criterion, criterion_group, criterion_main};
use pt_net::auth::Signer;
use pt_net::presign::{FixedPath, PresignConfig, Presigner};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

const PATH: &str = "/trade-api/v2/portfolio/events/orders";

fn sign(c: &mut Criterion) {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("keygen");
    let der = key.to_pkcs8_der().expect("der");
    let ours = Arc::new(Signer::from_pkcs8_der("bench", der.as_bytes()).expect("signer"));
    let peer = rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(key);
    let mut g = c.benchmark_group("sign_2048");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("pt_ring_pss", |b| {
        b.iter(|| black_box(ours.sign("1703123456789", "POST", PATH)))
    });
    g.bench_function("rsa_crate_pss", |b| {
        let message = pt_net::auth::signed_message("1703123456789", "POST", PATH);
        b.iter(|| {
            let sig = peer.sign_with_rng(&mut rand::thread_rng(), message.as_bytes());
            black_box(sig.to_bytes())
        })
    });
    g.finish();
    let mut presigner = Presigner::start(
        Arc::clone(&ours),
        vec![FixedPath {
            method: "POST",
            path: PATH.to_owned(),
        }],
        PresignConfig::default(),
    );
    let now = pt_net::auth::now_ms();
    c.bench_function("presigned_take", |b| {
        b.iter(|| black_box(presigner.fixed(0, now).map(|p| p.signature().len())))
    });
}

criterion_group!(benches, sign);
criterion_main!(benches);
