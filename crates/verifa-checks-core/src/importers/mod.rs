//! Watchlist importers: turn published list files into [`WatchlistEntry`] values.
//!
//! - [`ofac`]: the OFAC SDN legacy CSV pair (`sdn.csv` + optional `alt.csv`).
//! - [`plain`]: a simple CSV with header `name,aliases,list,country,date_of_birth`.
//!
//! Both read everything the caller hands over (`impl Read`, decoded as UTF-8 with invalid bytes
//! replaced, since older OFAC files are Latin-1) and fail with an [`ImportError`] that names the
//! 1-based line where the offending record starts.

pub(crate) mod csv;
pub mod ofac;
pub mod plain;

use std::io::Read;

use serde::{Deserialize, Serialize};

/// One screenable party: a primary name, its aliases and optional identifying details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchlistEntry {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    /// Source list, e.g. `OFAC SDN`.
    pub list: String,
    pub country: Option<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("could not read input: {0}")]
    Io(String),
    #[error("line {line}: unterminated quoted field")]
    UnterminatedQuote { line: usize },
    #[error("line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("line {line}: invalid header: {message}")]
    Header { line: usize, message: String },
    #[error("line {line}: invalid {field}: {message}")]
    InvalidField {
        line: usize,
        field: &'static str,
        message: String,
    },
    #[error("line {line}: entity {ent_num} appears more than once")]
    DuplicateEntity { line: usize, ent_num: u64 },
    #[error("line {line}: alias refers to unknown entity {ent_num}")]
    UnknownEntity { line: usize, ent_num: u64 },
    #[error("input is empty")]
    Empty,
}

/// Reads all input as text. Invalid UTF-8 is replaced rather than rejected: a stray Latin-1
/// accent must not fail an entire sanctions import.
pub(crate) fn read_text(mut input: impl Read) -> Result<String, ImportError> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::Io(e.to_string()))?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests;
