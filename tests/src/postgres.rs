//! The PostgreSQL server the store's Postgres tests use.
//!
//! `.ci/postgres.sh` starts one on loopback (Debian's package) and exports
//! `PT_TEST_POSTGRES` (an admin URL without a password),
//! `PT_TEST_POSTGRES_PASSWORD` and `PT_REQUIRE_POSTGRES=1`; `.ci/run` runs
//! it before the tests. Without a server a test skips with a notice; with
//! `PT_REQUIRE_POSTGRES=1` it fails instead, so CI cannot pass by not
//! running them.

/// The variable with the server's admin URL.
pub const URL: &str = "PT_TEST_POSTGRES";
/// The variable with its password (the URL holds none).
pub const PASSWORD: &str = "PT_TEST_POSTGRES_PASSWORD";
/// The variable that turns a missing server into a failure.
pub const REQUIRE: &str = "PT_REQUIRE_POSTGRES";

/// The test server's admin URL, or `None` with a notice naming `test`
/// (a panic when the server is required).
pub fn server(test: &str) -> Option<String> {
    match std::env::var(URL) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os(REQUIRE).is_some_and(|v| v == "1") {
                panic!(
                    "{test}: {URL} is not set, and {REQUIRE}=1 says a Postgres server must be there (eval \"$(bash .ci/postgres.sh)\" starts one)"
                );
            }
            eprintln!(
                "skipping {test}: no Postgres server ({URL} is not set; eval \"$(bash .ci/postgres.sh)\" starts one)"
            );
            None
        }
    }
}

/// A database name for `tag` unique to this test process.
pub fn database_name(tag: &str) -> String {
    format!("pt_test_{tag}_{}", std::process::id())
}
