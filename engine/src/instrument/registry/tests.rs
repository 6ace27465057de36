use super::*;

const GOOD: &str = r#"
[[venue]]
name = "kalshi"

[[venue]]
name = "binance"

[[instrument]]
symbol = "KXHIGHNY-25DEC31-B45"
venue = "kalshi"
kind = "binary"
qty_step = "1"
price_ranges = [
    { start = "0", end = "0.1", step = "0.001" },
    { start = "0.1", end = "0.9", step = "0.01" },
    { start = "0.9", end = "1", step = "0.001" },
]

[[instrument]]
symbol = "BTCUSDT"
venue = "binance"
kind = "spot"
qty_step = "0.00001"
price_ranges = [{ start = "0.01", end = "1000000", step = "0.01" }]
"#;

#[test]
fn loads_venues_and_instruments_in_order() {
    let registry = Registry::from_toml(GOOD, "good.toml").unwrap();
    assert_eq!(registry.venues().len(), 2);
    let kalshi = registry.venue("kalshi").unwrap().id;
    let binance = registry.venue("binance").unwrap().id;
    assert_eq!((kalshi, binance), (VenueId(0), VenueId(1)));
    let market = registry.lookup(kalshi, "KXHIGHNY-25DEC31-B45").unwrap();
    assert_eq!(market.id, InstrumentId(0));
    assert_eq!(market.kind, ContractKind::Binary);
    assert_eq!(market.grid.len(), 281);
    let btc = registry.lookup(binance, "BTCUSDT").unwrap();
    assert_eq!(btc.id, InstrumentId(1));
    assert_eq!(btc.qty_step, Qty::parse("0.00001").unwrap());
    assert_eq!(
        btc.grid.index_of(Price::parse("61837.63").unwrap()),
        Some(6_183_762)
    );
    assert!(registry.lookup(kalshi, "BTCUSDT").is_none());
    assert_eq!(
        registry.instrument(InstrumentId(1)).unwrap().symbol,
        "BTCUSDT"
    );
}

fn error(text: &str) -> String {
    Registry::from_toml(text, "bad.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn duplicate_symbol_names_both_entries() {
    let text = format!(
        "{GOOD}\n[[instrument]]\nsymbol = \"BTCUSDT\"\nvenue = \"binance\"\nkind = \"spot\"\nqty_step = \"1\"\nprice_ranges = [{{ start = \"1\", end = \"2\", step = \"1\" }}]\n"
    );
    let msg = error(&text);
    assert!(
        msg.contains("\"BTCUSDT\"") && msg.contains("already declared at line 20"),
        "{msg}"
    );
}

#[test]
fn empty_and_overlapping_grids_name_the_entry() {
    let empty = "[[venue]]\nname = \"k\"\n[[instrument]]\nsymbol = \"A\"\nvenue = \"k\"\nkind = \"binary\"\nqty_step = \"1\"\nprice_ranges = []\n";
    let msg = error(empty);
    assert!(
        msg.contains("line 4") && msg.contains("\"A\"") && msg.contains("empty"),
        "{msg}"
    );

    let overlap = "[[venue]]\nname = \"k\"\n[[instrument]]\nsymbol = \"B\"\nvenue = \"k\"\nkind = \"binary\"\nqty_step = \"1\"\nprice_ranges = [{ start = \"0.1\", end = \"0.5\", step = \"0.01\" }, { start = \"0.4\", end = \"0.9\", step = \"0.01\" }]\n";
    let msg = error(overlap);
    assert!(msg.contains("\"B\"") && msg.contains("overlap"), "{msg}");
}

#[test]
fn bad_numbers_name_the_field_and_value() {
    let text = "[[venue]]\nname = \"k\"\n[[instrument]]\nsymbol = \"C\"\nvenue = \"k\"\nkind = \"binary\"\nqty_step = \"1\"\nprice_ranges = [{ start = \"0.01\", end = \"0.99\", step = \"0.0x\" }]\n";
    let msg = error(text);
    assert!(msg.contains("price_ranges[0].step = \"0.0x\""), "{msg}");
    let text = text
        .replace("0.0x", "0.01")
        .replace("qty_step = \"1\"", "qty_step = \"0\"");
    let msg = error(&text);
    assert!(
        msg.contains("qty_step = \"0\"") && msg.contains("greater than 0"),
        "{msg}"
    );
}

#[test]
fn unknown_venue_kind_and_keys_are_errors() {
    let msg = error(
        "[[instrument]]\nsymbol = \"A\"\nvenue = \"nowhere\"\nkind = \"binary\"\nqty_step = \"1\"\nprice_ranges = [{ start = \"1\", end = \"2\", step = \"1\" }]\n",
    );
    assert!(msg.contains("\"nowhere\""), "{msg}");
    let msg = error(
        "[[venue]]\nname = \"k\"\n[[instrument]]\nsymbol = \"A\"\nvenue = \"k\"\nkind = \"option\"\nqty_step = \"1\"\nprice_ranges = []\n",
    );
    assert!(msg.starts_with("bad.toml:6:"), "{msg}");
    let msg = error("[[venue]]\nname = \"k\"\ncolour = \"red\"\n");
    assert!(
        msg.starts_with("bad.toml:3:") && msg.contains("colour"),
        "{msg}"
    );
    let msg = error("[[venue]]\nname = \"k\"\n[[venue]]\nname = \"k\"\n");
    assert!(msg.contains("line 4") && msg.contains("twice"), "{msg}");
}
