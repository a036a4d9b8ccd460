//! Loading and validating the configuration.

use super::*;
use std::collections::HashMap;

/// Environment variables from pairs (shared with the secrets tests).
pub(super) fn env(vars: &[(&str, &str)]) -> Environment {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Environment::with_prefix("VERIFA")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .source(Some(map))
}

#[test]
fn compiled_defaults_load_from_an_empty_directory() {
    let s = Settings::load_from(
        "development",
        std::path::Path::new("/nonexistent"),
        env(&[]),
    )
    .unwrap();
    assert_eq!(s.server.addr, "127.0.0.1:8080");
    assert!(s.database_url().starts_with("sqlite://"));
    assert_eq!(s.log.format, "pretty");
    let p =
        Settings::load_from("production", std::path::Path::new("/nonexistent"), env(&[])).unwrap();
    assert_eq!(p.log.format, "json");
}

#[test]
fn environment_variables_override_files() {
    let s = Settings::load_from(
        "test",
        std::path::Path::new("/nonexistent"),
        env(&[
            ("VERIFA__DATABASE__URL", "postgres://u:p@h/db"),
            ("VERIFA__SERVER__ADDR", "0.0.0.0:9000"),
            ("VERIFA__RATE_LIMIT__REQUESTS_PER_MINUTE", "7"),
        ]),
    )
    .unwrap();
    assert_eq!(s.database_url(), "postgres://u:p@h/db");
    assert_eq!(s.server.addr, "0.0.0.0:9000");
    assert_eq!(s.rate_limit.requests_per_minute, 7);
    assert!(
        !format!("{s:?}").contains("u:p@h"),
        "the database URL must never print"
    );
}

#[test]
fn bad_values_are_refused_with_a_clear_message() {
    assert!(matches!(
        Settings::load_from("staging", std::path::Path::new("/x"), env(&[])),
        Err(SettingsError::UnknownEnvironment(_))
    ));
    let err = Settings::load_from(
        "test",
        std::path::Path::new("/x"),
        env(&[("VERIFA__SERVER__ADDR", "nope")]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("server.addr"));
    let err = Settings::load_from(
        "test",
        std::path::Path::new("/x"),
        env(&[("VERIFA__DATABASE__URL", "mysql://x")]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("database.url"));
}
