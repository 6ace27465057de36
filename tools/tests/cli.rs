//! The `pt` binary as a user runs it.

use std::process::{Command, Output};

fn pt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pt"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the pt binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    // One folder per test process; the files are tiny and named per test.
    let dir = std::env::temp_dir().join(format!("pt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

const MARKET: &str = "[[instrument]]\nsymbol = \"KXBTC\"\nvenue = \"kalshi\"\nkind = \"binary\"\nqty_step = \"1\"\nprice_ranges = [{ start = \"0.01\", end = \"0.99\", step = \"0.01\" }]\n";

#[test]
fn instruments_lists_a_valid_registry() {
    let path = temp_file(
        "good.toml",
        &format!("[[venue]]\nname = \"kalshi\"\n{MARKET}"),
    );
    let out = pt(&["instruments", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("1 venues, 1 instruments"), "{stdout}");
    assert!(
        stdout.contains("KXBTC") && stdout.contains("0.01") && stdout.contains("0.99"),
        "{stdout}"
    );
}

#[test]
fn instruments_names_the_bad_entry_without_a_backtrace() {
    let path = temp_file(
        "dup.toml",
        &format!("[[venue]]\nname = \"kalshi\"\n{MARKET}{MARKET}"),
    );
    let out = pt(&["instruments", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: invalid instrument registry"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "line 10: instrument \"KXBTC\" on venue \"kalshi\" is already declared at line 4"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");

    let out = pt(&["instruments", "/nonexistent/registry.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read"),
        "{}",
        text(&out.stderr)
    );
}
