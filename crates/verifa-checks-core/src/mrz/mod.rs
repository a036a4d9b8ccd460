//! ICAO 9303 machine-readable zone (MRZ) parsing and validation.
//!
//! Owns the layouts TD1 (3×30, ID cards), TD2 (2×36), TD3 (2×44, passports) and the machine
//! readable visas MRV-A (2×44) and MRV-B (2×36); field extraction; every check digit; and the
//! century inference for the two-digit years. Structural problems (line count, line length,
//! characters outside `A-Z 0-9 <`) are [`MrzError`]s; check-digit failures are not errors but
//! [`CheckDigitResult`]s with `valid: false`, so callers can report *which* field failed.
//!
//! Input normalisation, deliberately lenient about layout and strict about content:
//! - lines may be separated by `\n` or `\r\n`; surrounding whitespace and blank lines are ignored;
//! - a single line of exactly 90, 72 or 88 characters is split into TD1 / TD2 / TD3 lines (OCR
//!   engines sometimes concatenate the zone);
//! - lowercase letters are upper-cased (the MRZ alphabet has no lowercase, so this cannot change
//!   the meaning of a valid zone); any other character, including an inner space, is rejected.
//!
//! Century rules (two-digit years, given the caller's `reference_date`, usually today):
//! - date of birth: `20yy` unless that date lies after the reference date, then `19yy` (nobody is
//!   born in the future). People over 100 are therefore read as children; the MRZ cannot tell.
//! - expiry: `20yy` unless that year is more than 50 years after the reference year, then `19yy`
//!   (no document is issued for 50+ years, while long-expired documents do get presented).
//!
//! A date field that is not a real calendar date (e.g. `<<` for an unknown birth day) keeps its raw
//! text and has `date: None`; the check digit is still validated over the raw characters.

mod check_digit;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::{Map, Value};

pub use check_digit::compute as compute_check_digit;

/// Upper bound on accepted input; a real zone is ≤ 90 characters plus separators.
const MAX_INPUT_BYTES: usize = 1024;

/// The physical layout of the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MrzFormat {
    /// 3 lines × 30 characters (ID-1 size cards).
    Td1,
    /// 2 lines × 36 characters.
    Td2,
    /// 2 lines × 44 characters (passport booklets).
    Td3,
    /// Visa, 2 lines × 44 characters.
    MrvA,
    /// Visa, 2 lines × 36 characters.
    MrvB,
}

impl MrzFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Td1 => "td1",
            Self::Td2 => "td2",
            Self::Td3 => "td3",
            Self::MrvA => "mrv_a",
            Self::MrvB => "mrv_b",
        }
    }
}

/// What kind of document the document code denotes, in Verifa's `document_type` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Passport,
    NationalId,
    ResidencePermit,
    Visa,
    /// A code outside the conventions below; the raw code is still in [`Mrz::document_code`].
    Other,
}

impl DocumentKind {
    /// Maps the 1–2 character document code. `P…` passports, `V…` visas; `I`, `A`, `C` are
    /// official travel/ID cards, where a second letter `R` is the common residence-permit marker
    /// (e.g. `IR`, `AR`, used by EU and UK residence permits).
    pub fn from_code(code: &str) -> Self {
        let mut chars = code.chars();
        let first = chars.next();
        let second = chars.next();
        match (first, second) {
            (Some('P'), _) => Self::Passport,
            (Some('V'), _) => Self::Visa,
            (Some('I' | 'A' | 'C'), Some('R')) => Self::ResidencePermit,
            (Some('I' | 'A' | 'C'), _) => Self::NationalId,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passport => "passport",
            Self::NationalId => "national_id",
            Self::ResidencePermit => "residence_permit",
            Self::Visa => "visa",
            Self::Other => "other",
        }
    }
}

/// Sex as printed in the zone; `<` (and `X`, used by some issuers) mean unspecified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    Unspecified,
}

impl Sex {
    /// `M`, `F` or `X`, the `gender` values of `extracted_data`.
    pub fn as_code(self) -> &'static str {
        match self {
            Self::Male => "M",
            Self::Female => "F",
            Self::Unspecified => "X",
        }
    }
}

/// A six-character `YYMMDD` field with its inferred calendar date, if it is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MrzDate {
    pub raw: String,
    pub date: Option<NaiveDate>,
}

/// Which check digit a [`CheckDigitResult`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckField {
    DocumentNumber,
    DateOfBirth,
    ExpiryDate,
    /// TD3 personal number (optional data of line 2).
    OptionalData,
    Composite,
}

/// The outcome of one check digit: `expected` is computed from the data, `actual` is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckDigitResult {
    pub field: CheckField,
    pub expected: char,
    pub actual: char,
    pub valid: bool,
}

/// A parsed zone. `valid` is true when every check digit matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mrz {
    pub format: MrzFormat,
    /// Document code with fillers removed, e.g. `P`, `I`, `IR`, `V`.
    pub document_code: String,
    pub document_kind: DocumentKind,
    /// Issuing state or organisation (3-letter code with fillers removed, e.g. `D` for Germany).
    pub issuing_state: String,
    pub surname: String,
    pub given_names: String,
    /// Full document number, including a TD1/TD2 long-number extension when present.
    pub document_number: String,
    pub nationality: String,
    pub date_of_birth: MrzDate,
    pub sex: Sex,
    pub expiry_date: MrzDate,
    /// TD1 line 1 optional data (after any document-number extension); TD2/TD3/MRV line-2
    /// optional data (the personal number on TD3). Trailing fillers removed.
    pub optional_data: String,
    /// TD1 line 2 optional data; `None` for the two-line formats.
    pub optional_data_2: Option<String>,
    pub check_digits: Vec<CheckDigitResult>,
    pub valid: bool,
    /// The normalised zone lines the fields were read from.
    pub lines: Vec<String>,
}

/// Structural problems that prevent reading the zone at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("MRZ text is empty")]
    Empty,
    #[error("MRZ text is too long ({len} bytes; at most {MAX_INPUT_BYTES})")]
    TooLong { len: usize },
    #[error("MRZ has {found} lines; expected 2 (TD2, TD3, visas) or 3 (TD1)")]
    WrongLineCount { found: usize },
    #[error("MRZ line {line} has {found} characters; expected {expected}")]
    WrongLineLength {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error(
        "invalid character {ch:?} at line {line}, column {column}; only A-Z, 0-9 and < are allowed"
    )]
    InvalidCharacter {
        line: usize,
        column: usize,
        ch: char,
    },
    #[error("invalid sex marker {ch:?}; expected M, F, X or <")]
    InvalidSex { ch: char },
}

/// Parses and validates an MRZ. `reference_date` drives the century inference (see module docs).
pub fn parse(text: &str, reference_date: NaiveDate) -> Result<Mrz, MrzError> {
    let lines = normalize_lines(text)?;
    let format = detect_format(&lines)?;
    let mrz = match format {
        MrzFormat::Td1 => parse_td1(&lines, reference_date),
        MrzFormat::Td2 | MrzFormat::Td3 | MrzFormat::MrvA | MrzFormat::MrvB => {
            parse_two_line(format, &lines, reference_date)
        }
    }?;
    Ok(mrz)
}

impl Mrz {
    /// The `extracted_data` keys Verifa reports for a document. Keys whose value is unknown
    /// (empty name part, unreadable date) are omitted rather than sent as empty strings.
    pub fn extracted_data(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |key: &str, value: String| {
            if !value.is_empty() {
                map.insert(key.to_owned(), Value::String(value));
            }
        };
        put("first_name", self.given_names.clone());
        put("last_name", self.surname.clone());
        put("date_of_birth", iso(self.date_of_birth.date));
        put("document_number", self.document_number.clone());
        put("nationality", self.nationality.clone());
        put("gender", self.sex.as_code().to_owned());
        put("document_type", self.document_kind.as_str().to_owned());
        put("document_expiration_date", iso(self.expiry_date.date));
        put("document_issuing_state", self.issuing_state.clone());
        map
    }

    /// The first failed check digit, if any (handy for error details).
    pub fn first_failed_check(&self) -> Option<&CheckDigitResult> {
        self.check_digits.iter().find(|c| !c.valid)
    }
}

fn iso(date: Option<NaiveDate>) -> String {
    date.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Splits, trims, upper-cases and validates the character set.
fn normalize_lines(text: &str) -> Result<Vec<Vec<u8>>, MrzError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(MrzError::TooLong { len: text.len() });
    }
    let mut lines: Vec<Vec<u8>> = Vec::with_capacity(3);
    for (idx, raw) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let mut line = Vec::with_capacity(raw.len());
        for (col, ch) in raw.chars().enumerate() {
            let up = ch.to_ascii_uppercase();
            if up.is_ascii_uppercase() || up.is_ascii_digit() || up == '<' {
                // ASCII checked just above, so the byte is the whole character.
                line.push(up as u8);
            } else {
                return Err(MrzError::InvalidCharacter {
                    line: idx + 1,
                    column: col + 1,
                    ch,
                });
            }
        }
        lines.push(line);
    }
    match lines.as_slice() {
        [] => Err(MrzError::Empty),
        [single] => {
            let width = match single.len() {
                90 => 30,
                72 => 36,
                88 => 44,
                _ => return Err(MrzError::WrongLineCount { found: 1 }),
            };
            Ok(single.chunks(width).map(<[u8]>::to_vec).collect())
        }
        _ => Ok(lines),
    }
}

fn detect_format(lines: &[Vec<u8>]) -> Result<MrzFormat, MrzError> {
    let expected = match lines {
        [_, _, _] => 30,
        [first, _] if first.len() == 44 || first.len() == 36 => first.len(),
        [first, _] => {
            // Report against the nearer of the two widths; it is the likelier intent.
            let exp = if first.len() > 40 { 44 } else { 36 };
            return Err(MrzError::WrongLineLength {
                line: 1,
                expected: exp,
                found: first.len(),
            });
        }
        other => return Err(MrzError::WrongLineCount { found: other.len() }),
    };
    for (i, line) in lines.iter().enumerate() {
        if line.len() != expected {
            return Err(MrzError::WrongLineLength {
                line: i + 1,
                expected,
                found: line.len(),
            });
        }
    }
    let is_visa = lines.first().and_then(|l| l.first()) == Some(&b'V');
    Ok(match (expected, is_visa) {
        (30, _) => MrzFormat::Td1,
        (36, false) => MrzFormat::Td2,
        (36, true) => MrzFormat::MrvB,
        (_, false) => MrzFormat::Td3,
        (_, true) => MrzFormat::MrvA,
    })
}

/// Bounds-checked sub-slice; lengths are validated before use, so the empty fallback is never
/// hit in practice, but it keeps the parser panic-free by construction.
fn seg(line: &[u8], from: usize, to: usize) -> &[u8] {
    line.get(from..to).unwrap_or_default()
}

fn at(line: &[u8], idx: usize) -> u8 {
    line.get(idx).copied().unwrap_or(b'<')
}

/// Fillers → spaces, whitespace collapsed. Input is ASCII by construction.
fn text_field(bytes: &[u8]) -> String {
    let s: String = bytes
        .iter()
        .map(|&b| if b == b'<' { ' ' } else { char::from(b) })
        .collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes trailing fillers only; inner fillers are significant in document numbers.
fn trim_fillers(bytes: &[u8]) -> String {
    let end = bytes.iter().rposition(|&b| b != b'<').map_or(0, |p| p + 1);
    seg(bytes, 0, end).iter().map(|&b| char::from(b)).collect()
}

fn split_name(field: &[u8]) -> (String, String) {
    let sep = field.windows(2).position(|w| w == b"<<");
    match sep {
        Some(p) => (
            text_field(seg(field, 0, p)),
            text_field(seg(field, p + 2, field.len())),
        ),
        None => (text_field(field), String::new()),
    }
}

fn parse_sex(b: u8) -> Result<Sex, MrzError> {
    match b {
        b'M' => Ok(Sex::Male),
        b'F' => Ok(Sex::Female),
        b'<' | b'X' => Ok(Sex::Unspecified),
        other => Err(MrzError::InvalidSex {
            ch: char::from(other),
        }),
    }
}

fn check(field: CheckField, data: &[u8], actual: u8) -> CheckDigitResult {
    let expected = check_digit::compute(data);
    CheckDigitResult {
        field,
        expected: char::from(expected),
        actual: char::from(actual),
        valid: expected == actual,
    }
}

/// Optional-data check digits may be `<` when the field is entirely fillers (ICAO 9303-4 §4.2.2.3,
/// personal number); `0` is equally valid there because the computed digit of fillers is 0.
fn check_optional(data: &[u8], actual: u8) -> CheckDigitResult {
    let mut r = check(CheckField::OptionalData, data, actual);
    if actual == b'<' && data.iter().all(|&b| b == b'<') {
        r.valid = true;
    }
    r
}

fn two_digits(bytes: &[u8]) -> Option<u32> {
    match bytes {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        }
        _ => None,
    }
}

fn yymmdd(raw: &[u8]) -> Option<(u32, u32, u32)> {
    Some((
        two_digits(raw.get(0..2)?)?,
        two_digits(raw.get(2..4)?)?,
        two_digits(raw.get(4..6)?)?,
    ))
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Century rule for dates of birth (see module docs).
pub fn infer_birth_date(raw: &[u8], reference: NaiveDate) -> Option<NaiveDate> {
    let (yy, mm, dd) = yymmdd(raw)?;
    let yy = i32::try_from(yy).ok()?;
    match ymd(2000 + yy, mm, dd) {
        Some(d) if d <= reference => Some(d),
        _ => ymd(1900 + yy, mm, dd),
    }
}

/// Century rule for expiry dates (see module docs).
pub fn infer_expiry_date(raw: &[u8], reference: NaiveDate) -> Option<NaiveDate> {
    let (yy, mm, dd) = yymmdd(raw)?;
    let yy = i32::try_from(yy).ok()?;
    if 2000 + yy > reference.year().saturating_add(50) {
        ymd(1900 + yy, mm, dd)
    } else {
        ymd(2000 + yy, mm, dd)
    }
}

fn mrz_date(raw: &[u8], date: Option<NaiveDate>) -> MrzDate {
    MrzDate {
        raw: raw.iter().map(|&b| char::from(b)).collect(),
        date,
    }
}

/// A document number that may continue into the optional data (TD1/TD2 long numbers,
/// ICAO 9303-5 §4.2.4 note j): when the check-digit position holds `<`, the optional data carries
/// the remaining characters followed by the real check digit, then fillers.
struct DocNumber {
    number: String,
    check: CheckDigitResult,
    /// Optional data after the extension (the whole field when there is no extension).
    rest_optional: Vec<u8>,
}

fn read_doc_number(principal: &[u8], check_char: u8, optional: &[u8]) -> DocNumber {
    if check_char == b'<' {
        let ext_end = optional
            .iter()
            .position(|&b| b == b'<')
            .unwrap_or(optional.len());
        if ext_end > 0 {
            let with_check = seg(optional, 0, ext_end);
            let ext = seg(with_check, 0, ext_end - 1);
            let real_check = at(with_check, ext_end - 1);
            let mut full = principal.to_vec();
            full.extend_from_slice(ext);
            let number = trim_fillers(&full);
            let check = check(CheckField::DocumentNumber, &full, real_check);
            return DocNumber {
                number,
                check,
                rest_optional: seg(optional, ext_end, optional.len()).to_vec(),
            };
        }
    }
    DocNumber {
        number: trim_fillers(principal),
        check: check(CheckField::DocumentNumber, principal, check_char),
        rest_optional: optional.to_vec(),
    }
}

fn lines_as_strings(lines: &[Vec<u8>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.iter().map(|&b| char::from(b)).collect())
        .collect()
}

fn parse_td1(lines: &[Vec<u8>], reference: NaiveDate) -> Result<Mrz, MrzError> {
    let empty = Vec::new();
    let l1 = lines.first().unwrap_or(&empty);
    let l2 = lines.get(1).unwrap_or(&empty);
    let l3 = lines.get(2).unwrap_or(&empty);

    let document_code = trim_fillers(seg(l1, 0, 2));
    let issuing_state = trim_fillers(seg(l1, 2, 5));
    let doc = read_doc_number(seg(l1, 5, 14), at(l1, 14), seg(l1, 15, 30));

    let dob_raw = seg(l2, 0, 6);
    let sex = parse_sex(at(l2, 7))?;
    let exp_raw = seg(l2, 8, 14);
    let nationality = trim_fillers(seg(l2, 15, 18));
    let optional_2 = trim_fillers(seg(l2, 18, 29));

    let mut composite = Vec::with_capacity(60);
    composite.extend_from_slice(seg(l1, 5, 30));
    composite.extend_from_slice(seg(l2, 0, 7));
    composite.extend_from_slice(seg(l2, 8, 15));
    composite.extend_from_slice(seg(l2, 18, 29));

    let check_digits = vec![
        doc.check,
        check(CheckField::DateOfBirth, dob_raw, at(l2, 6)),
        check(CheckField::ExpiryDate, exp_raw, at(l2, 14)),
        check(CheckField::Composite, &composite, at(l2, 29)),
    ];
    let (surname, given_names) = split_name(l3);
    Ok(finish(Mrz {
        format: MrzFormat::Td1,
        document_kind: DocumentKind::from_code(&document_code),
        document_code,
        issuing_state,
        surname,
        given_names,
        document_number: doc.number,
        nationality,
        date_of_birth: mrz_date(dob_raw, infer_birth_date(dob_raw, reference)),
        sex,
        expiry_date: mrz_date(exp_raw, infer_expiry_date(exp_raw, reference)),
        optional_data: trim_fillers(&doc.rest_optional),
        optional_data_2: Some(optional_2),
        check_digits,
        valid: false,
        lines: lines_as_strings(lines),
    }))
}

/// TD2, TD3, MRV-A and MRV-B share line 1 and the first 28 characters of line 2.
fn parse_two_line(
    format: MrzFormat,
    lines: &[Vec<u8>],
    reference: NaiveDate,
) -> Result<Mrz, MrzError> {
    let empty = Vec::new();
    let l1 = lines.first().unwrap_or(&empty);
    let l2 = lines.get(1).unwrap_or(&empty);
    let width = l2.len();

    let document_code = trim_fillers(seg(l1, 0, 2));
    let issuing_state = trim_fillers(seg(l1, 2, 5));
    let (surname, given_names) = split_name(seg(l1, 5, width));

    let dob_raw = seg(l2, 13, 19);
    let sex = parse_sex(at(l2, 20))?;
    let exp_raw = seg(l2, 21, 27);
    let nationality = trim_fillers(seg(l2, 10, 13));

    let mut check_digits = Vec::with_capacity(5);
    let (document_number, optional_data) = match format {
        MrzFormat::Td3 => {
            let c = check(CheckField::DocumentNumber, seg(l2, 0, 9), at(l2, 9));
            check_digits.push(c);
            (trim_fillers(seg(l2, 0, 9)), trim_fillers(seg(l2, 28, 42)))
        }
        MrzFormat::Td2 => {
            let doc = read_doc_number(seg(l2, 0, 9), at(l2, 9), seg(l2, 28, 35));
            check_digits.push(doc.check);
            (doc.number, trim_fillers(&doc.rest_optional))
        }
        // Visas: no optional-data or composite check digits; the optional data runs to the end.
        MrzFormat::MrvA | MrzFormat::MrvB | MrzFormat::Td1 => {
            let c = check(CheckField::DocumentNumber, seg(l2, 0, 9), at(l2, 9));
            check_digits.push(c);
            (
                trim_fillers(seg(l2, 0, 9)),
                trim_fillers(seg(l2, 28, width)),
            )
        }
    };
    check_digits.push(check(CheckField::DateOfBirth, dob_raw, at(l2, 19)));
    check_digits.push(check(CheckField::ExpiryDate, exp_raw, at(l2, 27)));

    let mut composite = Vec::with_capacity(44);
    match format {
        MrzFormat::Td3 => {
            check_digits.push(check_optional(seg(l2, 28, 42), at(l2, 42)));
            composite.extend_from_slice(seg(l2, 0, 10));
            composite.extend_from_slice(seg(l2, 13, 20));
            composite.extend_from_slice(seg(l2, 21, 43));
            check_digits.push(check(CheckField::Composite, &composite, at(l2, 43)));
        }
        MrzFormat::Td2 => {
            composite.extend_from_slice(seg(l2, 0, 10));
            composite.extend_from_slice(seg(l2, 13, 20));
            composite.extend_from_slice(seg(l2, 21, 35));
            check_digits.push(check(CheckField::Composite, &composite, at(l2, 35)));
        }
        MrzFormat::MrvA | MrzFormat::MrvB | MrzFormat::Td1 => {}
    }

    Ok(finish(Mrz {
        format,
        document_kind: DocumentKind::from_code(&document_code),
        document_code,
        issuing_state,
        surname,
        given_names,
        document_number,
        nationality,
        date_of_birth: mrz_date(dob_raw, infer_birth_date(dob_raw, reference)),
        sex,
        expiry_date: mrz_date(exp_raw, infer_expiry_date(exp_raw, reference)),
        optional_data,
        optional_data_2: None,
        check_digits,
        valid: false,
        lines: lines_as_strings(lines),
    }))
}

fn finish(mut mrz: Mrz) -> Mrz {
    mrz.valid = mrz.check_digits.iter().all(|c| c.valid);
    mrz
}

#[cfg(test)]
mod tests;
