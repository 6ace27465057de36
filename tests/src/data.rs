//! The shared recordings and references (`../shared` beside the project).
//!
//! A test that needs one asks here. On a bare clone the file is absent and
//! the test skips with a printed notice naming it, so the project's own
//! test command still passes; with `PT_REQUIRE_DATA=1` in the environment
//! (as `.ci/run` sets) an absent file is a failure instead, so a test
//! cannot pass by not running.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The environment variable that turns a missing file into a failure.
pub const REQUIRE: &str = "PT_REQUIRE_DATA";

/// `../shared/<rel>` (a file or a directory).
pub fn shared_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(rel)
}

/// Whether a missing file fails the test (`PT_REQUIRE_DATA=1`).
pub fn required() -> bool {
    std::env::var_os(REQUIRE).is_some_and(|v| v == "1")
}

/// `path` itself when it exists; otherwise `None` with a notice, or a
/// panic naming it when the data is required.
pub fn present(path: PathBuf) -> Option<PathBuf> {
    present_if(path, required())
}

fn present_if(path: PathBuf, required: bool) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    if required {
        panic!(
            "{} not found, and {REQUIRE}=1 says the shared data must be there",
            path.display()
        );
    }
    println!("skipping: {} not found", path.display());
    None
}

/// `../shared/data/<rel>`, or `None` (with a notice) when it is absent.
pub fn shared(rel: &str) -> Option<PathBuf> {
    present(shared_path("data").join(rel))
}

/// The file's text, gunzipped when its name ends in `.gz`; panics naming
/// the file when it cannot be read.
pub fn text(path: &Path) -> String {
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

/// The text of `../shared/data/<rel>`, or `None` (with a notice) when it
/// is absent.
pub fn shared_text(rel: &str) -> Option<String> {
    shared(rel).map(|p| text(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_file_skips_unless_the_data_is_required() {
        let absent = shared_path("data/no-such-recording.csv");
        assert_eq!(present_if(absent.clone(), false), None);
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert_eq!(present_if(here.clone(), true), Some(here));
    }

    #[test]
    #[should_panic(expected = "no-such-recording.csv not found, and PT_REQUIRE_DATA=1")]
    fn an_absent_file_fails_when_the_data_is_required() {
        present_if(shared_path("data/no-such-recording.csv"), true);
    }
}
