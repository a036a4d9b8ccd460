//! The simple watchlist CSV: a header row naming the columns `name,aliases,list,country,
//! date_of_birth` (any order; an optional `id` column; unknown columns ignored), aliases separated
//! by `;`, empty cells meaning "unknown".
//!
//! Entries without an `id` get a stable content id, `wl_` + the first 16 hex digits of
//! SHA-256(list, name, date_of_birth, country), so re-importing the same file does not churn ids.
//! Rows with the same id are merged (aliases unioned) rather than duplicated.

use std::collections::HashMap;
use std::io::Read;

use sha2::{Digest, Sha256};

use super::csv::{self, Record};
use super::{ImportError, WatchlistEntry, read_text};
use crate::partial_date::PartialDate;

struct Columns {
    id: Option<usize>,
    name: usize,
    aliases: Option<usize>,
    list: usize,
    country: Option<usize>,
    date_of_birth: Option<usize>,
}

fn columns(header: &Record) -> Result<Columns, ImportError> {
    let find = |want: &str| {
        header
            .fields
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(want))
    };
    let required = |want: &str| {
        find(want).ok_or_else(|| ImportError::Header {
            line: header.line,
            message: format!("missing required column `{want}`"),
        })
    };
    Ok(Columns {
        id: find("id"),
        name: required("name")?,
        aliases: find("aliases"),
        list: required("list")?,
        country: find("country"),
        date_of_birth: find("date_of_birth"),
    })
}

/// Parses the simple watchlist CSV.
pub fn parse_watchlist_csv(input: impl Read) -> Result<Vec<WatchlistEntry>, ImportError> {
    let text = read_text(input)?;
    let records = csv::parse(&text)?;
    let mut iter = records.into_iter();
    let header = iter.next().ok_or(ImportError::Empty)?;
    let cols = columns(&header)?;
    let width = header.fields.len();

    let mut entries: Vec<WatchlistEntry> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for rec in iter {
        if rec.fields.len() != width {
            return Err(ImportError::FieldCount {
                line: rec.line,
                expected: width,
                found: rec.fields.len(),
            });
        }
        let cell = |idx: Option<usize>| idx.map_or("", |i| rec.get(i).trim());
        let name = cell(Some(cols.name));
        if name.is_empty() {
            return Err(invalid(&rec, "name", "empty name"));
        }
        let list = cell(Some(cols.list));
        if list.is_empty() {
            return Err(invalid(&rec, "list", "empty list name"));
        }
        let dob = cell(cols.date_of_birth);
        let date_of_birth = if dob.is_empty() {
            None
        } else {
            let parsed = PartialDate::parse(dob).ok_or_else(|| {
                invalid(
                    &rec,
                    "date_of_birth",
                    &format!("{dob:?} is not YYYY, YYYY-MM or YYYY-MM-DD"),
                )
            })?;
            Some(parsed.to_string())
        };
        let country = Some(cell(cols.country))
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let mut aliases: Vec<String> = Vec::new();
        for alias in cell(cols.aliases).split(';').map(str::trim) {
            if !alias.is_empty() && alias != name && !aliases.iter().any(|a| a == alias) {
                aliases.push(alias.to_owned());
            }
        }
        let id = match cell(cols.id) {
            "" => content_id(list, name, date_of_birth.as_deref(), country.as_deref()),
            given => given.to_owned(),
        };
        if let Some(existing) = by_id.get(&id).and_then(|&i| entries.get_mut(i)) {
            for alias in aliases {
                if !existing.aliases.contains(&alias) {
                    existing.aliases.push(alias);
                }
            }
            continue;
        }
        by_id.insert(id.clone(), entries.len());
        entries.push(WatchlistEntry {
            id,
            name: name.to_owned(),
            aliases,
            list: list.to_owned(),
            country,
            date_of_birth,
        });
    }
    Ok(entries)
}

fn invalid(rec: &Record, field: &'static str, message: &str) -> ImportError {
    ImportError::InvalidField {
        line: rec.line,
        field,
        message: message.to_owned(),
    }
}

fn content_id(list: &str, name: &str, dob: Option<&str>, country: Option<&str>) -> String {
    let mut h = Sha256::new();
    for part in [list, name, dob.unwrap_or(""), country.unwrap_or("")] {
        h.update(part.as_bytes());
        // Separator so ("ab","c") and ("a","bc") hash differently.
        h.update([0u8]);
    }
    let digest = hex::encode(h.finalize());
    format!("wl_{}", digest.get(..16).unwrap_or(&digest))
}
