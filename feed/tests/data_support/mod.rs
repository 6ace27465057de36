//! The shared recordings (`../shared/data` beside the project): a path, or
//! `None` with a printed notice naming the missing file, so a machine
//! without them still passes; and their text, gunzipped when the name ends
//! in `.gz`.

use std::io::Read;
use std::path::PathBuf;

/// `../shared/data/<rel>`, or `None` (with a notice) when it is absent.
pub(crate) fn shared(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel);
    if path.is_file() {
        Some(path)
    } else {
        println!("skipping: {} not found", path.display());
        None
    }
}

/// The file's text, gunzipped when its name ends in `.gz`.
pub(crate) fn text(path: &std::path::Path) -> String {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file).read_to_string(&mut text)
    } else {
        std::io::BufReader::new(file).read_to_string(&mut text)
    }
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text
}
