//! Ids: the order id generator (UUID-shaped, seeded) and the fast hash
//! the order maps use.

use super::*;

/// A fast, non-cryptographic hasher for the internal maps (FxHash's
/// multiply-rotate). Their keys are generated ids and account numbers, so
/// SipHash's flooding resistance buys nothing here.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(pub(crate) u64);

impl FxHasher {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    pub(crate) fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Where the 32 hex digits of a UUID-shaped id are (the rest are hyphens).
pub(crate) const UUID_DIGITS: [usize; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35,
];

/// Lowercase hex digits.
pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Each byte's value as a lowercase hex digit, 0xFF if it is none.
pub(crate) const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        table[HEX_DIGITS[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The 128 bits of a UUID-shaped id (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`,
/// lowercase hex) as written by [`IdGen::uuid`]; `None` for any other string,
/// so two ids are equal exactly when their keys are. Branch-free: the digits
/// of random ids defeat a branch predictor.
pub(crate) fn uuid_key(id: &str) -> Option<u128> {
    let bytes: &[u8; 36] = id.as_bytes().try_into().ok()?;
    let mut bad = (bytes[8] ^ b'-') | (bytes[13] ^ b'-') | (bytes[18] ^ b'-') | (bytes[23] ^ b'-');
    let mut half = |digits: &[usize]| {
        digits.iter().fold(0u64, |acc, &at| {
            let v = HEX_VALUE[usize::from(bytes[at])];
            bad |= v & 0xF0;
            (acc << 4) | u64::from(v & 0x0F)
        })
    };
    let (hi, lo) = (half(&UUID_DIGITS[..16]), half(&UUID_DIGITS[16..]));
    (bad == 0).then_some((u128::from(hi) << 64) | u128::from(lo))
}

/// Deterministic UUID-shaped ids from a splitmix64 stream.
#[derive(Debug, Clone)]
pub(crate) struct IdGen(pub(crate) u64);

impl IdGen {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A version-4-shaped UUID: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
    pub(crate) fn uuid(&mut self) -> String {
        self.uuid_with_key().1
    }

    /// A UUID and its [`uuid_key`].
    pub(crate) fn uuid_with_key(&mut self) -> (u128, String) {
        let a = (self.next_u64() & !0xF000) | 0x4000;
        let b = (self.next_u64() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        let mut text = [b'-'; 36];
        for (half, digits) in [(a, &UUID_DIGITS[..16]), (b, &UUID_DIGITS[16..])] {
            for (n, &at) in digits.iter().enumerate() {
                text[at] = HEX_DIGITS[((half >> (60 - 4 * n)) & 0xF) as usize];
            }
        }
        // ASCII by construction.
        let id = std::str::from_utf8(&text).map_or_else(|_| String::new(), str::to_owned);
        ((u128::from(a) << 64) | u128::from(b), id)
    }
}
