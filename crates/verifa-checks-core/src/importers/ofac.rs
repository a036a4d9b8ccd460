//! OFAC Specially Designated Nationals list, legacy CSV format.
//!
//! `sdn.csv` has no header and 12 columns: ent_num, SDN_Name, SDN_Type, Program, Title,
//! Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks. `-0-` (often padded with
//! a space) means empty. Individuals are written `LAST, First`; the name is kept verbatim because
//! matching is order- and punctuation-insensitive and analysts recognise the official spelling.
//! `alt.csv` (ent_num, alt_num, alt_type, alt_name, alt_remarks) supplies aliases.
//!
//! All entity types are imported (individuals, entities, vessels, aircraft): screening a person's
//! name against a vessel name is harmless, and dropping entities would hide front companies from
//! any future business screening.
//!
//! From Remarks we take the first `DOB …;` (later `alt. DOB` values are ignored) in the forms
//! `DOB 01 Jan 1960`, `DOB Jan 1960`, `DOB 1960`, `DOB circa 1960` (→ `1960`); ranges such as
//! `DOB 1958 to 1960` are dropped rather than guessed. `nationality X;` becomes the country.

use std::collections::HashMap;
use std::io::Read;

use chrono::NaiveDate;

use super::csv::{self, Record};
use super::{ImportError, WatchlistEntry, read_text};
use crate::partial_date::PartialDate;

pub const LIST_NAME: &str = "OFAC SDN";
const SDN_COLUMNS: usize = 12;
const ALT_COLUMNS: usize = 5;

/// Parses `sdn.csv` and, when given, merges `alt.csv` aliases. Entry ids are `ofac-sdn-<ent_num>`.
pub fn parse_sdn(
    sdn: impl Read,
    alt: Option<impl Read>,
) -> Result<Vec<WatchlistEntry>, ImportError> {
    let sdn_text = read_text(sdn)?;
    let mut entries = Vec::new();
    let mut by_ent: HashMap<u64, usize> = HashMap::new();
    for rec in csv::parse(&sdn_text)? {
        check_columns(&rec, SDN_COLUMNS)?;
        let ent_num = ent_num(&rec)?;
        let name = value(rec.get(1));
        if name.is_empty() {
            return Err(ImportError::InvalidField {
                line: rec.line,
                field: "SDN_Name",
                message: "empty name".to_owned(),
            });
        }
        let remarks = value(rec.get(11));
        let entry = WatchlistEntry {
            id: format!("ofac-sdn-{ent_num}"),
            name: name.to_owned(),
            aliases: Vec::new(),
            list: LIST_NAME.to_owned(),
            country: nationality_from_remarks(remarks),
            date_of_birth: dob_from_remarks(remarks).map(|d| d.to_string()),
        };
        if by_ent.insert(ent_num, entries.len()).is_some() {
            return Err(ImportError::DuplicateEntity {
                line: rec.line,
                ent_num,
            });
        }
        entries.push(entry);
    }
    if let Some(alt) = alt {
        for rec in csv::parse(&read_text(alt)?)? {
            check_columns(&rec, ALT_COLUMNS)?;
            let ent_num = ent_num(&rec)?;
            let alias = value(rec.get(3));
            let entry = by_ent
                .get(&ent_num)
                .and_then(|&i| entries.get_mut(i))
                .ok_or(ImportError::UnknownEntity {
                    line: rec.line,
                    ent_num,
                })?;
            if !alias.is_empty() && !entry.aliases.iter().any(|a| a == alias) {
                entry.aliases.push(alias.to_owned());
            }
        }
    }
    Ok(entries)
}

fn check_columns(rec: &Record, expected: usize) -> Result<(), ImportError> {
    if rec.fields.len() == expected {
        Ok(())
    } else {
        Err(ImportError::FieldCount {
            line: rec.line,
            expected,
            found: rec.fields.len(),
        })
    }
}

fn ent_num(rec: &Record) -> Result<u64, ImportError> {
    rec.get(0)
        .trim()
        .parse()
        .map_err(|_| ImportError::InvalidField {
            line: rec.line,
            field: "ent_num",
            message: format!("{:?} is not a number", rec.get(0)),
        })
}

/// Trims and maps OFAC's `-0-` null marker to "".
fn value(raw: &str) -> &str {
    let v = raw.trim();
    if v == "-0-" { "" } else { v }
}

/// The text of the first `<key> …` clause, up to `;` or the end.
fn clause<'a>(remarks: &'a str, key: &str) -> Option<&'a str> {
    let mut search = 0;
    while let Some(found) = remarks.get(search..)?.find(key) {
        let start = search + found;
        let before = remarks.get(..start).unwrap_or("");
        let at_boundary = before.is_empty() || before.ends_with(' ') || before.ends_with(';');
        let is_alt = before.trim_end().to_ascii_lowercase().ends_with("alt.");
        if at_boundary && !is_alt {
            let rest = remarks.get(start + key.len()..)?;
            let end = rest.find(';').unwrap_or(rest.len());
            return rest.get(..end).map(str::trim);
        }
        search = start + key.len();
    }
    None
}

/// First date of birth in a Remarks field (see module docs for the accepted forms).
pub fn dob_from_remarks(remarks: &str) -> Option<PartialDate> {
    let raw = clause(remarks, "DOB ")?;
    let raw = raw
        .strip_prefix("circa ")
        .or_else(|| raw.strip_prefix("approximately "))
        .unwrap_or(raw)
        .trim();
    let parts: Vec<&str> = raw.split_whitespace().collect();
    let year = |s: &str| -> Option<i32> {
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y] => Some(PartialDate::Year(year(y)?)),
        [m, y] => Some(PartialDate::YearMonth(year(y)?, month(m)?)),
        [d, m, y] => {
            let day: u32 = d.parse().ok()?;
            NaiveDate::from_ymd_opt(year(y)?, month(m)?, day).map(PartialDate::Full)
        }
        _ => None,
    }
}

fn month(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    MONTHS
        .iter()
        .position(|m| *m == prefix)
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn nationality_from_remarks(remarks: &str) -> Option<String> {
    clause(remarks, "nationality ")
        .or_else(|| clause(remarks, "Nationality "))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
