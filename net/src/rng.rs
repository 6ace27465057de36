//! A small xorshift generator for mask keys, handshake nonces and jitter.
//!
//! Not cryptographic: RFC 6455 masking only needs keys a script in a browser
//! cannot predict, and we are not a browser. Seeds come from the caller (for
//! deterministic tests) or once per connection from the OS via ring.

/// xorshift64* (Vigna): 64 bits of state, a multiply on output.
#[derive(Debug, Clone)]
pub(crate) struct XorShift64(u64);

impl XorShift64 {
    pub(crate) fn new(seed: u64) -> XorShift64 {
        // A zero state would stay zero forever; splitmix the seed instead.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift64((z ^ (z >> 31)) | 1)
    }

    /// Seeded from the operating system's CSPRNG (slow path: once per connection).
    pub(crate) fn from_os() -> XorShift64 {
        let mut seed = [0u8; 8];
        let random = rustls::crypto::ring::default_provider().secure_random;
        if random.fill(&mut seed).is_err() {
            // No OS randomness: fall back to the clock, still unpredictable enough
            // for masking.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            seed = nanos.to_le_bytes();
        }
        XorShift64::new(u64::from_le_bytes(seed))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}
