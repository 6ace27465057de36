//! The Binance USD-M futures recording (`binance/BINANCE_FUTURES.*` in the
//! shared data): four symbols on one combined stream, and the REST
//! snapshots taken at its start, merged in receive-time order; with the
//! instrument registry that gives their ticks. The feed's conformance test
//! and the futures bench replay the same inputs.

use crate::data;

/// The recorded symbols.
pub const SYMBOLS: [&str; 4] = ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"];

/// The ticks of the recorded symbols, as an operator's registry would
/// list them.
pub const REGISTRY: &str = r#"
[[venue]]
name = "binance-futures"

[[instrument]]
symbol = "SUSHIUSDT"
venue = "binance-futures"
kind = "perpetual"
qty_step = "1"
price_ranges = [{ start = "0.001", end = "10000", step = "0.001" }]

[[instrument]]
symbol = "AKROUSDT"
venue = "binance-futures"
kind = "perpetual"
qty_step = "1"
price_ranges = [{ start = "0.00001", end = "100", step = "0.00001" }]

[[instrument]]
symbol = "KEEPUSDT"
venue = "binance-futures"
kind = "perpetual"
qty_step = "1"
price_ranges = [{ start = "0.0001", end = "1000", step = "0.0001" }]

[[instrument]]
symbol = "CTKUSDT"
venue = "binance-futures"
kind = "perpetual"
qty_step = "1"
price_ranges = [{ start = "0.00001", end = "1000", step = "0.00001" }]
"#;

/// One recorded input: a websocket frame, or a REST snapshot with the URL
/// it was requested from (which names its symbol).
#[derive(Debug)]
pub enum Input {
    /// A websocket frame's JSON.
    Frame(String),
    /// A REST depth snapshot.
    Snapshot {
        /// The request's URL.
        url: String,
        /// The response body.
        json: String,
    },
}

/// `<unix seconds with a fraction>` as nanoseconds, exactly.
fn nanos(secs: &str) -> i64 {
    let (whole, frac) = secs.split_once('.').unwrap_or((secs, ""));
    let frac = format!("{frac:0<9}");
    whole.parse::<i64>().expect("seconds") * 1_000_000_000
        + frac[..9].parse::<i64>().expect("fraction")
}

/// Both files as (receive ns, input), merged by receive time (stable: a
/// snapshot received in the same instant as a frame comes after it); `None`
/// (with a notice) when the recording is absent. Panics naming the line
/// when one is not in the recording's format.
pub fn load() -> Option<Vec<(i64, Input)>> {
    let ws = data::shared("binance/BINANCE_FUTURES.ws.1.0")?;
    let http = data::shared("binance/BINANCE_FUTURES.http.0.0")?;
    let mut inputs = Vec::new();
    for (i, line) in data::text(&ws).lines().enumerate() {
        if line.contains(" <-> ") {
            continue; // The connection's URL.
        }
        let (ts, json) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("ws line {}: not '<secs>: <json>'", i + 1));
        inputs.push((nanos(ts), Input::Frame(json.to_owned())));
    }
    for (i, line) in data::text(&http).lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let (url, rest) = line
            .split_once(" -> ")
            .unwrap_or_else(|| panic!("http line {}: not '<url> -> <secs>: <json>'", i + 1));
        let (ts, json) = rest.split_once(": ").expect("'<secs>: <json>'");
        inputs.push((
            nanos(ts),
            Input::Snapshot {
                url: url.to_owned(),
                json: json.to_owned(),
            },
        ));
    }
    inputs.sort_by_key(|(ts, _)| *ts);
    Some(inputs)
}
