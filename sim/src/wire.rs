//! Kalshi's number and time formats: fixed-point dollar strings (`"0.5600"`),
//! count strings (`"10.00"`), RFC 3339 times, and parsing of the same from
//! requests with errors that name the field.

use pt_engine::model::{Price, Qty};

/// Raw units (1e-8) in one cent.
const CENT: i64 = 1_000_000;

/// A dollar amount as Kalshi prints it: at least four decimals, up to six
/// when the value needs them (`0.5600`, `0.012300`, `-1.7500`).
pub fn dollars(raw: i64) -> String {
    let sign = if raw < 0 { "-" } else { "" };
    let abs = raw.unsigned_abs();
    let whole = abs / 100_000_000;
    let frac = abs % 100_000_000;
    // Four decimals unless the fifth or sixth is set; never more than six
    // (prices are on grids of at most six decimals; money is rounded).
    let micro = frac / 100;
    if micro.is_multiple_of(100) {
        format!("{sign}{whole}.{:04}", micro / 100)
    } else {
        format!("{sign}{whole}.{micro:06}")
    }
}

/// A price as a dollar string.
pub fn price(p: Price) -> String {
    dollars(p.raw())
}

/// A count as Kalshi prints it: always two decimals (`"10.00"`).
pub fn count(q: Qty) -> String {
    let raw = q.raw();
    let sign = if raw < 0 { "-" } else { "" };
    let abs = raw.unsigned_abs();
    format!(
        "{sign}{}.{:02}",
        abs / 100_000_000,
        (abs % 100_000_000) / 1_000_000
    )
}

/// Money in whole cents, rounded toward zero (Kalshi's legacy integer fields).
pub fn cents(raw: i64) -> i64 {
    raw / CENT
}

/// A fee as Kalshi's fill messages print it: six decimals (`"0.010000"`).
pub fn fee(raw: i64) -> String {
    let sign = if raw < 0 { "-" } else { "" };
    let abs = raw.unsigned_abs();
    format!(
        "{sign}{}.{:06}",
        abs / 100_000_000,
        (abs % 100_000_000) / 100
    )
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC (`2026-11-23T12:00:00.123Z`).
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A request field that could not be read: names the field, the value and
/// what was expected. Rendered as Kalshi's 400 `invalid_parameters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError(pub String);

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a dollar price field (`"0.56"`, `"0.5600"`, up to six decimals).
pub fn parse_price(field: &str, text: &str) -> Result<Price, FieldError> {
    let p = Price::parse(text).map_err(|e| {
        FieldError(format!(
            "{field}: {text:?} is not a dollar amount ({e}); expected a string like \"0.5600\""
        ))
    })?;
    if p.raw() % 100 != 0 {
        return Err(FieldError(format!(
            "{field}: {text:?} has more than six decimals; expected at most six"
        )));
    }
    Ok(p)
}

/// Parses a count field (`"10"`, `"10.5"`, `"10.00"`; at most two decimals, above zero).
pub fn parse_count(field: &str, text: &str) -> Result<Qty, FieldError> {
    let q = Qty::parse(text).map_err(|e| {
        FieldError(format!(
            "{field}: {text:?} is not a count ({e}); expected a string like \"10.00\""
        ))
    })?;
    if q.raw() % CENT != 0 {
        return Err(FieldError(format!(
            "{field}: {text:?} has more than two decimals; the smallest count is 0.01"
        )));
    }
    if q.raw() <= 0 {
        return Err(FieldError(format!(
            "{field}: {text:?} must be at least 0.01"
        )));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_strings() {
        assert_eq!(dollars(56_000_000), "0.5600");
        assert_eq!(dollars(1_230_000), "0.0123");
        assert_eq!(dollars(1_234_500), "0.012345");
        assert_eq!(dollars(-175_000_000), "-1.7500");
        assert_eq!(dollars(0), "0.0000");
        assert_eq!(count(Qty::from_raw(1_000_000_000)), "10.00");
        assert_eq!(count(Qty::from_raw(-250_000_000)), "-2.50");
        assert_eq!(fee(1_000_000), "0.010000");
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_669_149_841_000), "2022-11-22T20:44:01.000Z");
        assert_eq!(rfc3339(1_709_251_200_123), "2024-03-01T00:00:00.123Z");
    }

    #[test]
    fn parsing_names_the_field() {
        assert_eq!(
            parse_count("count", "10").map(|q| q.raw()),
            Ok(1_000_000_000)
        );
        let err = parse_count("count", "0.001").unwrap_err();
        assert!(err.0.contains("count") && err.0.contains("0.001"), "{err}");
        assert!(parse_count("count", "0").is_err());
        assert!(parse_price("price", "abc").unwrap_err().0.contains("price"));
        assert!(parse_price("price", "0.1234567").is_err());
        assert_eq!(
            parse_price("price", "0.56").map(|p| p.raw()),
            Ok(56_000_000)
        );
    }
}
