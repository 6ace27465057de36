//! Message kinds a decoder passes over, counted by name.
//!
//! A venue that starts sending a new message kind must show up in the
//! feed's status, not vanish into a total: each decoder counts the frames
//! it does not handle because of their kind (a Kalshi `type` it does not
//! know, a Polymarket `event_type` other than `book`) in an
//! [`UnknownKinds`], under the name the venue sent.
//!
//! The counts live inline in a fixed table, so counting never allocates:
//! the first 16 distinct kinds are counted by name, in the order first
//! seen; frames of any later kind share one overflow count.
//!
//! # Names as stored
//!
//! A name is kept in the form it is shown in, at most 32 bytes:
//!
//! - UTF-8 text as sent, except that `\` and control characters are
//!   escaped as Rust's `char::escape_debug` writes them (`\\`, `\n`,
//!   `\u{1}`), so a name cannot break the status line it is printed in;
//! - each byte that is not part of valid UTF-8 as `\xNN` (lower-case hex).
//!
//! A longer name is cut before the first character or escape that would
//! not fit, never inside one. Kinds whose stored forms are equal (two long
//! names that agree in their first 32 bytes) are counted as one.

use core::fmt;

/// Distinct kinds counted by name.
const KINDS: usize = 16;
/// Longest stored name, in bytes.
const NAME_BYTES: usize = 32;

/// A kind's name in its stored form (see the module docs): always UTF-8,
/// at most [`NAME_BYTES`] bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Name {
    bytes: [u8; NAME_BYTES],
    len: u8,
}

impl Name {
    /// `kind` as stored, cut to fit.
    fn of(kind: &[u8]) -> Name {
        let mut name = Name::default();
        for chunk in kind.utf8_chunks() {
            for c in chunk.valid().chars() {
                let mut piece = [0u8; 12];
                let piece = if c == '\\' || c.is_control() {
                    // At most `\u{10ffff}`: 10 ASCII bytes.
                    let mut n = 0;
                    for (slot, e) in piece.iter_mut().zip(c.escape_debug()) {
                        *slot = e as u8;
                        n += 1;
                    }
                    piece.get(..n).unwrap_or(&[])
                } else {
                    c.encode_utf8(&mut piece).as_bytes()
                };
                if !name.push(piece) {
                    return name;
                }
            }
            for &b in chunk.invalid() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let escape = [
                    b'\\',
                    b'x',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ];
                if !name.push(&escape) {
                    return name;
                }
            }
        }
        name
    }

    /// Appends `piece` whole, or nothing and `false` when it does not fit.
    fn push(&mut self, piece: &[u8]) -> bool {
        let start = usize::from(self.len);
        let end = start + piece.len();
        match self.bytes.get_mut(start..end) {
            Some(dest) => {
                dest.copy_from_slice(piece);
                // `end` is at most NAME_BYTES (32), so it fits in a u8.
                self.len = end as u8;
                true
            }
            None => false,
        }
    }

    fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or(&[]);
        // Built from whole UTF-8 characters and ASCII escapes only, so the
        // empty fallback is never taken.
        core::str::from_utf8(bytes).unwrap_or("")
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Kind {
    name: Name,
    count: u64,
}

/// Frames counted by their kind's name; see the module docs.
///
/// `Display` lists the kinds in first-seen order as `name=count`, space
/// separated (`kline=67 aggTrade=91`), then `+N more` when `N` frames were
/// of kinds beyond the first 16; an empty name shows as `""`, and no
/// kinds at all as `none`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnknownKinds {
    /// `kinds[..seen]` are in use, in first-seen order; the rest are
    /// default, so equal counts compare equal.
    kinds: [Kind; KINDS],
    seen: usize,
    overflowed: u64,
}

impl UnknownKinds {
    /// Counts one frame of `kind` (the name as the venue sent it). A kind
    /// first seen after 16 others goes to the overflow count.
    pub fn count(&mut self, kind: &[u8]) {
        let name = Name::of(kind);
        let seen = self.seen;
        if let Some(k) = self.kinds.iter_mut().take(seen).find(|k| k.name == name) {
            k.count += 1;
            return;
        }
        match self.kinds.get_mut(seen) {
            Some(slot) => {
                *slot = Kind { name, count: 1 };
                self.seen += 1;
            }
            None => self.overflowed += 1,
        }
    }

    /// Frames of `kind` counted by name; 0 for a kind never seen or one
    /// that went to the overflow count.
    pub fn get(&self, kind: &[u8]) -> u64 {
        let name = Name::of(kind);
        self.in_use()
            .find(|k| k.name == name)
            .map_or(0, |k| k.count)
    }

    /// All frames counted, the overflow included.
    pub fn total(&self) -> u64 {
        self.in_use().map(|k| k.count).sum::<u64>() + self.overflowed
    }

    /// Frames of kinds first seen after 16 others.
    pub fn overflowed(&self) -> u64 {
        self.overflowed
    }

    /// `(name, count)` per kind counted by name, in first-seen order; names
    /// in their stored form (see the module docs).
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.in_use().map(|k| (k.name.as_str(), k.count))
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        // The overflow count only grows once every slot is in use.
        self.seen == 0
    }

    fn in_use(&self) -> impl Iterator<Item = &Kind> {
        self.kinds.iter().take(self.seen)
    }
}

impl fmt::Display for UnknownKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut sep = "";
        for (name, n) in self.iter() {
            let name = if name.is_empty() { "\"\"" } else { name };
            write!(f, "{sep}{name}={n}")?;
            sep = " ";
        }
        if self.overflowed > 0 {
            write!(f, "{sep}+{} more", self.overflowed)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_counted_by_name_in_first_seen_order() {
        let mut k = UnknownKinds::default();
        assert!(k.is_empty());
        assert_eq!(k.to_string(), "none");
        for kind in ["kline", "aggTrade", "kline", "depthUpdate", "kline"] {
            k.count(kind.as_bytes());
        }
        assert!(!k.is_empty());
        assert_eq!(
            k.iter().collect::<Vec<_>>(),
            [("kline", 3), ("aggTrade", 1), ("depthUpdate", 1)]
        );
        assert_eq!((k.get(b"kline"), k.get(b"aggTrade")), (3, 1));
        assert_eq!(k.get(b"trade"), 0);
        assert_eq!((k.total(), k.overflowed()), (5, 0));
        assert_eq!(k.to_string(), "kline=3 aggTrade=1 depthUpdate=1");
    }

    #[test]
    fn a_seventeenth_kind_goes_to_the_overflow_count() {
        let mut k = UnknownKinds::default();
        for i in 0..16 {
            k.count(format!("k{i}").as_bytes());
        }
        assert_eq!(k.overflowed(), 0);
        k.count(b"k16");
        k.count(b"k16");
        k.count(b"k17");
        k.count(b"k0");
        assert_eq!(k.overflowed(), 3);
        assert_eq!((k.get(b"k0"), k.get(b"k15"), k.get(b"k16")), (2, 1, 0));
        assert_eq!(k.total(), 16 + 1 + 3);
        assert_eq!(k.iter().count(), 16);
        let shown = k.to_string();
        assert!(shown.starts_with("k0=2 k1=1 "), "{shown}");
        assert!(shown.ends_with(" k15=1 +3 more"), "{shown}");
    }

    #[test]
    fn long_names_are_cut_to_32_bytes_without_splitting_a_character() {
        let mut k = UnknownKinds::default();
        let long = "a".repeat(31) + "bcdef";
        k.count(long.as_bytes());
        // Another name with the same first 32 bytes is the same kind.
        k.count(("a".repeat(31) + "bXYZ").as_bytes());
        let stored = "a".repeat(31) + "b";
        assert_eq!(k.iter().collect::<Vec<_>>(), [(stored.as_str(), 2)]);
        assert_eq!(k.get(long.as_bytes()), 2);
        // `é` is 2 bytes; at byte 31 it does not fit and is left out.
        let mut k = UnknownKinds::default();
        k.count(("a".repeat(31) + "é").as_bytes());
        let cut = "a".repeat(31);
        assert_eq!(k.iter().next(), Some((cut.as_str(), 1)));
    }

    #[test]
    fn names_that_are_not_printable_utf8_are_escaped() {
        let mut k = UnknownKinds::default();
        k.count(b"bad\xff\xfe");
        k.count(b"new\nline");
        k.count(br"back\slash");
        // The text `bad\xff` is not the byte 0xff: escaping `\` keeps the
        // two apart.
        k.count(br"bad\xff\xfe");
        k.count(b"");
        k.count("prix-é".as_bytes());
        assert_eq!(
            k.iter().collect::<Vec<_>>(),
            [
                (r"bad\xff\xfe", 1),
                (r"new\nline", 1),
                (r"back\\slash", 1),
                (r"bad\\xff\\xfe", 1),
                ("", 1),
                ("prix-é", 1),
            ]
        );
        assert_eq!(k.get(b"bad\xff\xfe"), 1);
        assert_eq!(
            k.to_string(),
            r#"bad\xff\xfe=1 new\nline=1 back\\slash=1 bad\\xff\\xfe=1 ""=1 prix-é=1"#
        );
        // An escape is never split: 30 bytes and `\xff` (4) leave it out.
        let mut k = UnknownKinds::default();
        let mut name = vec![b'a'; 30];
        name.push(0xff);
        k.count(&name);
        let cut = "a".repeat(30);
        assert_eq!(k.iter().next(), Some((cut.as_str(), 1)));
    }

    #[test]
    fn equal_counts_compare_equal() {
        let (mut a, mut b) = (UnknownKinds::default(), UnknownKinds::default());
        a.count(b"x");
        assert_ne!(a, b);
        b.count(b"x");
        assert_eq!(a, b);
        assert_eq!(a.clone(), b);
    }
}
