//! Kalshi's refusal codes as reject codes in the venue range (1000 and
//! up), so every venue reject is counted by reason. The venue's own code
//! text is what the journal's report cannot carry; the operator reads it by
//! this number (`pt` lists the table).

use pt_engine::model::RejectCode;

/// Known codes: (Kalshi's code, our number).
pub const TABLE: [(&str, u16); 16] = [
    ("post_only_cross", 1001),
    ("insufficient_balance", 1002),
    ("market_closed", 1003),
    ("market_inactive", 1003),
    ("trading_is_paused", 1004),
    ("order_already_exists", 1005),
    ("reduce_only_no_position", 1006),
    ("invalid_price", 1007),
    ("invalid_count", 1008),
    ("invalid_parameters", 1009),
    ("not_found", 1010),
    ("market_not_found", 1011),
    ("exceeded_order_group_risk_limit", 1012),
    ("order_group_cancel", 1013),
    ("exceeded_per_market_risk_limit", 1014),
    ("exceeded_sell_position_floor", 1015),
];

/// A rate limit (`429`).
pub const RATE_LIMITED: RejectCode = RejectCode(1020);
/// Authentication refused (`401`/`403`).
pub const UNAUTHORIZED: RejectCode = RejectCode(1021);
/// A server error (`5xx`) that still refused the request.
pub const SERVER_ERROR: RejectCode = RejectCode(1022);
/// The request could not be written (the connection busy or down): the
/// venue never saw it. A venue-range code, so that the order it refers to
/// is closed like any venue refusal (a gateway code means the gate refused
/// the intent before it became an order).
pub const NOT_SENT: RejectCode = RejectCode(1023);
/// The order cannot be written exactly in the venue's terms (its price or
/// count, or an instrument without a ticker).
pub const UNSENDABLE: RejectCode = RejectCode(1024);
/// Reconciliation found that the venue never received the order.
pub const NOT_AT_VENUE: RejectCode = RejectCode(1030);
/// A refusal with a code not in [`TABLE`].
pub const OTHER: RejectCode = RejectCode(1099);

/// The reject code for a refusal with HTTP `status` and Kalshi `code`
/// (either case; empty when the body had none).
pub fn venue_code(status: u16, code: &[u8]) -> RejectCode {
    if let Some((_, n)) = TABLE
        .iter()
        .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(code))
    {
        return RejectCode(*n);
    }
    match status {
        429 => RATE_LIMITED,
        401 | 403 => UNAUTHORIZED,
        500.. => SERVER_ERROR,
        _ => OTHER,
    }
}

/// Kalshi's name for a venue reject code, for display.
pub fn venue_code_name(code: RejectCode) -> &'static str {
    match code {
        RATE_LIMITED => "rate_limited",
        UNAUTHORIZED => "unauthorized",
        SERVER_ERROR => "server_error",
        NOT_AT_VENUE => "not_at_venue",
        NOT_SENT => "not_sent",
        UNSENDABLE => "unsendable",
        _ => TABLE
            .iter()
            .find(|(_, n)| *n == code.0)
            .map_or("venue_other", |(name, _)| name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_both_ways() {
        assert_eq!(venue_code(409, b"post_only_cross"), RejectCode(1001));
        assert_eq!(venue_code(400, b"MARKET_INACTIVE"), RejectCode(1003));
        assert_eq!(venue_code(429, b""), RATE_LIMITED);
        assert_eq!(venue_code(503, b""), SERVER_ERROR);
        assert_eq!(venue_code(400, b"something_new"), OTHER);
        assert_eq!(venue_code_name(RejectCode(1005)), "order_already_exists");
        assert_eq!(venue_code_name(RATE_LIMITED), "rate_limited");
        assert!(TABLE.iter().all(|(_, n)| *n >= RejectCode::VENUE.0));
    }
}
