//! The Polymarket `book` decoder never panics on any bytes; a book that
//! decodes iterates exactly the levels it reports, each with a price in
//! 0..=1 and a non-negative size; error spans lie inside the frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pt_engine::model::Price;
use pt_feed::polymarket::decode_book;

fuzz_target!(|data: &[u8]| {
    let book = match decode_book(data) {
        Ok(b) => b,
        Err(e) => {
            assert!(e.span.start <= e.span.end && e.span.end <= data.len());
            let _ = e.display(data).to_string();
            return;
        }
    };
    for levels in [book.bids, book.asks] {
        let mut n = 0;
        for (p, q) in levels.iter() {
            assert!(p.raw() >= 0 && p <= Price::ONE && q.raw() >= 0);
            n += 1;
        }
        assert_eq!(n, levels.len());
    }
});
