//! RFC 3339 timestamps (`2022-11-22T20:44:01Z`, `2026-11-23T12:00:00.123Z`,
//! `...+05:30`) to [`Nanos`], without allocation. Kalshi puts one in the
//! delta's `ts`; the decoder reads it only when `ts_ms` is absent.

use pt_engine::model::Nanos;

fn num(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let digits = b.get(at..at + n)?;
    let mut v = 0i64;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(d - b'0');
    }
    Some(v)
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses an RFC 3339 date-time; `None` when it is not one.
pub fn parse_rfc3339(b: &[u8]) -> Option<Nanos> {
    let y = num(b, 0, 4)?;
    let m = num(b, 5, 2)?;
    let d = num(b, 8, 2)?;
    let (h, mi, s) = (num(b, 11, 2)?, num(b, 14, 2)?, num(b, 17, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || !(1..=12).contains(&m)
        || !(1..=days_in_month(y, m)).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let mut i = 19;
    let mut frac = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut n = 0;
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if n < 9 {
                frac = frac * 10 + i64::from(c - b'0');
            }
            n += 1;
            i += 1;
        }
        if n == 0 {
            return None;
        }
        for _ in n..9 {
            frac *= 10;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        &sign @ (b'+' | b'-') if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let (oh, om) = (num(b, i + 1, 2)?, num(b, i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + s - offset;
    secs.checked_mul(1_000_000_000)?
        .checked_add(frac)
        .map(Nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // 1669149841 is the ts of Kalshi's documented delta example.
        assert_eq!(
            parse_rfc3339(b"2022-11-22T20:44:01Z"),
            Some(Nanos(1_669_149_841_000_000_000))
        );
        assert_eq!(
            parse_rfc3339(b"2022-11-22T20:44:01.123Z"),
            Some(Nanos(1_669_149_841_123_000_000))
        );
        assert_eq!(
            parse_rfc3339(b"2022-11-22T22:44:01+02:00"),
            Some(Nanos(1_669_149_841_000_000_000))
        );
        assert_eq!(parse_rfc3339(b"1970-01-01T00:00:00Z"), Some(Nanos(0)));
        assert_eq!(
            parse_rfc3339(b"2024-02-29T00:00:00Z"),
            Some(Nanos(1_709_164_800_000_000_000))
        );
    }

    #[test]
    fn malformed_is_none() {
        for bad in [
            &b""[..],
            b"2022-11-22",
            b"2022-11-22T20:44:01",
            b"2022-13-22T20:44:01Z",
            b"2023-02-29T00:00:00Z",
            b"2022-11-22T24:00:00Z",
            b"2022-11-22T20:44:01.Z",
            b"2022-11-22T20:44:01Zjunk",
            b"2022-11-22T20:44:01+0200",
            b"+022-11-22T20:44:01Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
