//! Fixed-point prices and quantities.
//!
//! Both are an `i64` count of 10^-8 units ([`SCALE`] decimals). Eight decimals
//! hold every venue we trade exactly: Kalshi dollars (`"0.5600"`), Binance spot
//! prices and sizes (`"61837.63000000"`), Kalshi fixed-point counts (`"10.00"`)
//! and LOBSTER integer prices in units of 10^-4 (`"2238200"` with a source scale
//! of 4). The range is ±92,233,720,368.54775807, which no single price or
//! quantity we handle approaches. There are no floats anywhere in this module.

use core::fmt;

/// Decimal places of every [`Price`] and [`Qty`].
pub const SCALE: u32 = 8;
/// 10^[`SCALE`]: the raw value of one whole unit.
pub const UNIT: i64 = 100_000_000;

/// Why a decimal string is not an exact fixed-point number.
///
/// The caller adds the field name and the value when it reports the error; this
/// type stays `Copy` and allocation-free so decoders can return it on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedError {
    /// The string has no digits.
    Empty,
    /// A byte that is not a digit, a leading `-`, or a single `.` between digits.
    InvalidByte {
        /// Byte offset in the input.
        index: usize,
        /// The offending byte.
        byte: u8,
    },
    /// Non-zero digits beyond what the fixed scale can hold exactly.
    TooManyDecimals {
        /// Decimals the value needs, after the source scale is applied.
        needed: u32,
    },
    /// The value does not fit in an `i64` at the fixed scale.
    Overflow,
    /// The source scale passed to `parse_scaled` is larger than supported (18).
    SourceScaleTooLarge {
        /// The scale that was passed.
        scale: u32,
    },
}

impl fmt::Display for FixedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FixedError::Empty => f.write_str("empty number; expected a decimal such as \"0.56\""),
            FixedError::InvalidByte { index, byte } => write!(
                f,
                "invalid byte {:?} at offset {index}; expected digits with an optional leading '-' and at most one '.' between digits",
                char::from(byte)
            ),
            FixedError::TooManyDecimals { needed } => write!(
                f,
                "needs {needed} decimals; at most {SCALE} are representable exactly"
            ),
            FixedError::Overflow => write!(
                f,
                "out of range; expected a magnitude below {}",
                i64::MAX / UNIT
            ),
            FixedError::SourceScaleTooLarge { scale } => {
                write!(f, "source scale {scale} is larger than the supported 18")
            }
        }
    }
}

impl std::error::Error for FixedError {}

const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// Parses `text`, whose value is expressed in units of 10^-`source_scale`, into
/// a raw count of 10^-[`SCALE`] units. Exact or an error; never rounds.
fn parse_raw(text: &[u8], source_scale: u32) -> Result<i64, FixedError> {
    if source_scale > 18 {
        return Err(FixedError::SourceScaleTooLarge {
            scale: source_scale,
        });
    }
    let (negative, body, offset) = match text.split_first() {
        None => return Err(FixedError::Empty),
        Some((b'-', rest)) => (true, rest, 1),
        Some(_) => (false, text, 0),
    };
    if body.is_empty() {
        return Err(FixedError::Empty);
    }
    let point = body.iter().position(|&b| b == b'.');
    let (int_part, frac_part) = match point {
        Some(p) => (&body[..p], &body[p + 1..]),
        None => (body, &body[body.len()..]),
    };
    if point.is_some() && (int_part.is_empty() || frac_part.is_empty()) {
        // "5." and ".5" are not forms any venue sends; refuse them.
        let index = offset + point.unwrap_or(0);
        return Err(FixedError::InvalidByte { index, byte: b'.' });
    }
    // Trailing zeros of the fraction carry no value; dropping them keeps
    // "0.10000000000000000000" from overflowing the mantissa.
    let significant_frac =
        frac_part.len() - frac_part.iter().rev().take_while(|&&b| b == b'0').count();
    let frac_part_sig = &frac_part[..significant_frac];

    let mut mantissa: u64 = 0;
    for (i, &b) in int_part.iter().enumerate() {
        mantissa = push_digit(mantissa, b, offset + i)?;
    }
    let frac_offset = offset + int_part.len() + 1;
    for (i, &b) in frac_part.iter().enumerate() {
        if i < significant_frac {
            mantissa = push_digit(mantissa, b, frac_offset + i)?;
        } else if !b.is_ascii_digit() {
            return Err(FixedError::InvalidByte {
                index: frac_offset + i,
                byte: b,
            });
        }
    }
    let decimals = source_scale + frac_part_sig.len() as u32;
    let raw = if decimals <= SCALE {
        mantissa
            .checked_mul(POW10[(SCALE - decimals) as usize])
            .ok_or(FixedError::Overflow)?
    } else {
        let excess = decimals - SCALE;
        // Integer inputs with a large source scale may still be exact when
        // they end in zeros ("2238200" at scale 10).
        let divisor = POW10.get(excess as usize).copied().unwrap_or(u64::MAX);
        if !mantissa.is_multiple_of(divisor) {
            let trailing = trailing_decimal_zeros(mantissa);
            return Err(FixedError::TooManyDecimals {
                needed: decimals - trailing.min(excess),
            });
        }
        mantissa / divisor
    };
    if negative {
        // i64::MIN has no positive counterpart, so negate in the wider type.
        0i64.checked_sub_unsigned(raw).ok_or(FixedError::Overflow)
    } else {
        i64::try_from(raw).map_err(|_| FixedError::Overflow)
    }
}

fn push_digit(acc: u64, byte: u8, index: usize) -> Result<u64, FixedError> {
    if !byte.is_ascii_digit() {
        return Err(FixedError::InvalidByte { index, byte });
    }
    acc.checked_mul(10)
        .and_then(|v| v.checked_add(u64::from(byte - b'0')))
        .ok_or(FixedError::Overflow)
}

fn trailing_decimal_zeros(mut v: u64) -> u32 {
    let mut n = 0;
    while v != 0 && v.is_multiple_of(10) {
        v /= 10;
        n += 1;
    }
    n
}

/// Writes `raw` as the shortest exact decimal string: no trailing fractional
/// zeros, no point for whole numbers, a leading `-` for negatives.
fn format_raw(raw: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let magnitude = raw.unsigned_abs();
    let unit = UNIT as u64;
    let mut int = magnitude / unit;
    let mut frac = magnitude % unit;
    // Sign, up to 11 integer digits (i64::MAX / 10^8 < 10^11), a point, 8 decimals.
    let mut buf = [0u8; 24];
    let mut len = 0;
    if raw < 0 {
        buf[len] = b'-';
        len += 1;
    }
    let mut digits = [0u8; 12];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (int % 10) as u8;
        n += 1;
        int /= 10;
        if int == 0 {
            break;
        }
    }
    while n > 0 {
        n -= 1;
        buf[len] = digits[n];
        len += 1;
    }
    if frac != 0 {
        buf[len] = b'.';
        len += 1;
        let mut width = SCALE as usize;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        for i in (0..width).rev() {
            buf[len + i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        len += width;
    }
    // Only ASCII digits, '-' and '.' were written above.
    f.pad(core::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)
}

macro_rules! fixed_point {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            bytemuck::Pod, bytemuck::Zeroable,
        )]
        #[repr(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(0);
            /// One whole unit.
            pub const ONE: Self = Self(UNIT);
            /// The largest value.
            pub const MAX: Self = Self(i64::MAX);

            /// Wraps a raw count of 10^-8 units.
            pub const fn from_raw(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw count of 10^-8 units.
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// A whole number of units, or `None` on overflow.
            pub const fn from_units(units: i64) -> Option<Self> {
                match units.checked_mul(UNIT) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// Parses a decimal string such as `"0.5600"` or `"61837.63000000"`.
            pub fn parse(text: &str) -> Result<Self, FixedError> {
                Self::parse_bytes(text.as_bytes())
            }

            /// [`Self::parse`] on bytes straight from a wire buffer.
            pub fn parse_bytes(text: &[u8]) -> Result<Self, FixedError> {
                parse_raw(text, 0).map(Self)
            }

            /// Parses a number written in units of 10^-`source_scale`, such as
            /// LOBSTER's `"2238200"` (dollars × 10^4) with `source_scale = 4`.
            pub fn parse_scaled(text: &str, source_scale: u32) -> Result<Self, FixedError> {
                parse_raw(text.as_bytes(), source_scale).map(Self)
            }

            /// The sum, or `None` on overflow.
            pub const fn checked_add(self, other: Self) -> Option<Self> {
                match self.0.checked_add(other.0) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// The difference, or `None` on overflow.
            pub const fn checked_sub(self, other: Self) -> Option<Self> {
                match self.0.checked_sub(other.0) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// Whether the value is zero.
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                format_raw(self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl core::str::FromStr for $name {
            type Err = FixedError;
            fn from_str(text: &str) -> Result<Self, FixedError> {
                Self::parse(text)
            }
        }
    };
}

fixed_point!(
    /// A price in 10^-8 units of the quote currency. For binary contracts
    /// the unit is one dollar, so `0.56` is 56 cents.
    Price
);
fixed_point!(
    /// An amount of money (a fee, cash, a PnL) in 10^-8 units of the quote
    /// currency: the same scale as [`Price`], a different quantity, so a
    /// fee cannot be passed where a price is expected.
    Money
);
fixed_point!(
    /// A quantity (contracts, shares or base currency) in 10^-8 units. Signed so
    /// that a level delta can carry a decrease.
    Qty
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_venue_strings_exactly() {
        assert_eq!(Price::parse("0.5600").unwrap().raw(), 56_000_000);
        assert_eq!(
            Price::parse("61837.63000000").unwrap().raw(),
            6_183_763_000_000
        );
        assert_eq!(Qty::parse("10.00").unwrap().raw(), 1_000_000_000);
        assert_eq!(
            Price::parse_scaled("2238200", 4).unwrap(),
            Price::parse("223.82").unwrap()
        );
        assert_eq!(Price::parse("-0.01").unwrap().raw(), -1_000_000);
        assert_eq!(Price::parse("0.00000001").unwrap().raw(), 1);
        assert_eq!(
            Price::parse("0.1000000000000000000000").unwrap().raw(),
            10_000_000
        );
        assert_eq!(Price::parse_scaled("2238200", 10).unwrap().raw(), 22_382);
        assert_eq!(Price::parse("92233720368.54775807").unwrap(), Price::MAX);
    }

    #[test]
    fn formats_the_shortest_exact_string() {
        assert_eq!(Price::parse("0.5600").unwrap().to_string(), "0.56");
        assert_eq!(
            Price::parse("61837.63000000").unwrap().to_string(),
            "61837.63"
        );
        assert_eq!(Qty::parse("10.00").unwrap().to_string(), "10");
        assert_eq!(
            Price::parse_scaled("2238200", 4).unwrap().to_string(),
            "223.82"
        );
        assert_eq!(Price::from_raw(-1).to_string(), "-0.00000001");
        assert_eq!(Price::ZERO.to_string(), "0");
        assert_eq!(
            Price::from_raw(i64::MIN).to_string(),
            "-92233720368.54775808"
        );
        assert_eq!(format!("{:>6}", Price::parse("0.5").unwrap()), "   0.5");
    }

    #[test]
    fn rejects_with_typed_errors() {
        assert_eq!(Price::parse(""), Err(FixedError::Empty));
        assert_eq!(Price::parse("-"), Err(FixedError::Empty));
        assert_eq!(
            Price::parse("0.123456789"),
            Err(FixedError::TooManyDecimals { needed: 9 })
        );
        assert_eq!(
            Price::parse_scaled("2238201", 10),
            Err(FixedError::TooManyDecimals { needed: 10 })
        );
        assert_eq!(
            Price::parse("92233720368.54775808"),
            Err(FixedError::Overflow)
        );
        assert_eq!(
            Price::parse("99999999999999999999999"),
            Err(FixedError::Overflow)
        );
        assert_eq!(
            Price::parse("1e5"),
            Err(FixedError::InvalidByte {
                index: 1,
                byte: b'e'
            })
        );
        assert_eq!(
            Price::parse("0.5.6"),
            Err(FixedError::InvalidByte {
                index: 3,
                byte: b'.'
            })
        );
        assert_eq!(
            Price::parse(".5"),
            Err(FixedError::InvalidByte {
                index: 0,
                byte: b'.'
            })
        );
        assert_eq!(
            Price::parse("5."),
            Err(FixedError::InvalidByte {
                index: 1,
                byte: b'.'
            })
        );
        assert_eq!(
            Price::parse("+1"),
            Err(FixedError::InvalidByte {
                index: 0,
                byte: b'+'
            })
        );
        assert_eq!(
            Price::parse(" 1"),
            Err(FixedError::InvalidByte {
                index: 0,
                byte: b' '
            })
        );
        assert_eq!(
            Price::parse("1.0x"),
            Err(FixedError::InvalidByte {
                index: 3,
                byte: b'x'
            })
        );
        assert_eq!(
            Price::parse_scaled("1", 19),
            Err(FixedError::SourceScaleTooLarge { scale: 19 })
        );
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(raw in any::<i64>()) {
            let price = Price::from_raw(raw);
            prop_assert_eq!(Price::parse(&price.to_string()), Ok(price));
            let qty = Qty::from_raw(raw);
            prop_assert_eq!(Qty::parse(&qty.to_string()), Ok(qty));
        }

        #[test]
        fn parse_then_format_is_canonical(int in 0u64..92_000_000_000, frac in 0u64..100_000_000, zeros in 0usize..6, neg: bool) {
            // Any way of writing a value parses to it and formats back to the
            // same canonical text.
            let text = format!("{}{int}.{frac:08}{}", if neg { "-" } else { "" }, "0".repeat(zeros));
            let parsed = Price::parse(&text).unwrap();
            let expected = (int as i64 * UNIT + frac as i64) * if neg { -1 } else { 1 };
            prop_assert_eq!(parsed.raw(), expected);
            let canonical = parsed.to_string();
            prop_assert_eq!(Price::parse(&canonical), Ok(parsed));
            prop_assert!(!canonical.contains('.') || !canonical.ends_with('0'));
        }

        #[test]
        fn scaled_matches_decimal(units in 0u64..10_000_000_000, scale in 0u32..=8) {
            let text = units.to_string();
            let scaled = Price::parse_scaled(&text, scale).unwrap();
            prop_assert_eq!(scaled.raw() as u64, units * 10u64.pow(SCALE - scale));
        }

        #[test]
        fn too_many_decimals_is_rejected(int in 0u64..1000, tail in 1u64..10) {
            let text = format!("{int}.00000000{tail}");
            prop_assert_eq!(Price::parse(&text), Err(FixedError::TooManyDecimals { needed: 9 }));
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = Price::parse(&text);
            let _ = Qty::parse_scaled(&text, 4);
        }

        #[test]
        fn garbage_is_rejected_at_its_offset(prefix in "[0-9]{1,6}", bad in "[a-zA-Z ,_+eE]") {
            let text = format!("{prefix}{bad}1");
            let err = Price::parse(&text).unwrap_err();
            prop_assert_eq!(err, FixedError::InvalidByte { index: prefix.len(), byte: bad.as_bytes()[0] });
        }
    }
}
