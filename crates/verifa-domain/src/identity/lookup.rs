//! Lookup fields (CONTRACT §7.3): the personal data an identity search may match, and the one
//! normal form a value takes before it is keyed-hashed. The hash itself is computed outside the
//! domain (it needs the instance's secret lookup key); equal people must normalise equally, so
//! both the values stored with a result and the values of a search go through [`normalize`].
//!
//! Normal forms:
//! - names, city, state: NFKD, diacritics dropped, lower-cased (`ß` → `ss`), NFKC, every run of
//!   non-alphanumerics one space (`"  Zoë  O'Brien-Smith "` → `"zoe o brien smith"`);
//! - date of birth: a valid `YYYY-MM-DD` date;
//! - document number, SSN, zip code: NFKC, ASCII letters and digits only, upper-cased;
//! - e-mail: NFKC, trimmed, lower-cased, one `@` with text on both sides;
//! - phone: NFKC, digits only, the last ten (`+1 (555) 010-9999` = `5550109999`), at least seven.

use chrono::NaiveDate;
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// A searchable field of a session's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LookupField {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// `YYYY-MM-DD`.
    DateOfBirth,
    /// Identity document number.
    DocumentNumber,
    /// Social security number.
    Ssn,
    /// E-mail address.
    Email,
    /// Phone number.
    Phone,
    /// City of the address.
    City,
    /// State or region of the address.
    State,
    /// Postal code of the address.
    ZipCode,
}

impl LookupField {
    /// Every field, in the order of the contract.
    pub const ALL: [Self; 10] = [
        Self::FirstName,
        Self::LastName,
        Self::DateOfBirth,
        Self::DocumentNumber,
        Self::Ssn,
        Self::Email,
        Self::Phone,
        Self::City,
        Self::State,
        Self::ZipCode,
    ];

    /// The wire name (also the hash's domain separator).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::DateOfBirth => "date_of_birth",
            Self::DocumentNumber => "document_number",
            Self::Ssn => "ssn",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::City => "city",
            Self::State => "state",
            Self::ZipCode => "zip_code",
        }
    }

    /// The field of a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The names a value of this field goes by in `extracted_data` or a session's `fields`,
    /// compared after [`folded_key`] (so `firstName`, `first-name` and `first_name` agree).
    fn source_keys(self) -> &'static [&'static str] {
        match self {
            Self::FirstName => &["firstname", "givenname"],
            Self::LastName => &["lastname", "surname", "familyname"],
            Self::DateOfBirth => &["dateofbirth", "dob", "birthdate"],
            Self::DocumentNumber => &["documentnumber"],
            Self::Ssn => &["ssn"],
            Self::Email => &["email"],
            Self::Phone => &["phone", "phonenumber"],
            Self::City => &["city"],
            Self::State => &["state", "region"],
            Self::ZipCode => &["zipcode", "postalcode", "zip"],
        }
    }

    /// Whether an address object holds this field (`address.city`, …).
    fn in_address(self) -> bool {
        matches!(self, Self::City | Self::State | Self::ZipCode)
    }
}

/// Why a search value cannot be matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Nothing usable remains after normalisation, or the value has the wrong form.
    #[error("{field} {problem}")]
    Unusable {
        /// The field's wire name.
        field: &'static str,
        /// What is wrong, for the 422 message.
        problem: &'static str,
    },
}

/// The normal form of `value` as `field`, or why it has none.
pub fn normalize(field: LookupField, value: &str) -> Result<String, LookupError> {
    let unusable = |problem| LookupError::Unusable {
        field: field.as_str(),
        problem,
    };
    let compat: String = value.nfkc().collect();
    let out = match field {
        LookupField::FirstName | LookupField::LastName | LookupField::City | LookupField::State => {
            folded_words(&compat)
        }
        LookupField::DateOfBirth => NaiveDate::parse_from_str(compat.trim(), "%Y-%m-%d")
            .map_err(|_| unusable("must be a date in the form YYYY-MM-DD"))?
            .format("%Y-%m-%d")
            .to_string(),
        LookupField::DocumentNumber | LookupField::Ssn | LookupField::ZipCode => compat
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        LookupField::Email => {
            let email = compat.trim().to_lowercase();
            match email.split_once('@') {
                Some((local, domain))
                    if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
                {
                    email
                }
                _ => return Err(unusable("must be an e-mail address")),
            }
        }
        LookupField::Phone => {
            let digits: Vec<char> = compat.chars().filter(char::is_ascii_digit).collect();
            if digits.len() < 7 {
                return Err(unusable("must have at least 7 digits"));
            }
            digits
                .iter()
                .skip(digits.len().saturating_sub(10))
                .collect()
        }
    };
    if out.is_empty() {
        return Err(unusable("has no letters or digits"));
    }
    Ok(out)
}

/// Case-folded, diacritic-free words joined by single spaces.
fn folded_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            if !lower.is_alphanumeric() {
                gap = true;
                continue;
            }
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            if lower == 'ß' {
                out.push_str("ss");
            } else {
                out.push(lower);
            }
        }
    }
    out.nfkc().collect()
}

/// A key compared without case, `_` or `-`.
fn folded_key(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The normalised values a result carries, per field, from its extracted data and then the
/// session's pre-fill `fields` (both kept when they differ: either may be searched for), with
/// city, state and zip code also read from an `address` object. Values without a normal form
/// are left out; the list is sorted and free of duplicates.
pub fn result_values(
    extracted: &Map<String, Value>,
    fields: &Map<String, Value>,
) -> Vec<(LookupField, String)> {
    let mut out = Vec::new();
    for source in [extracted, fields] {
        let address = source
            .iter()
            .find(|(k, _)| folded_key(k) == "address")
            .and_then(|(_, v)| v.as_object());
        for field in LookupField::ALL {
            let mut maps = vec![source];
            if field.in_address() {
                maps.extend(address);
            }
            for map in maps {
                for (key, value) in map {
                    let Some(text) = value.as_str() else { continue };
                    if field.source_keys().contains(&folded_key(key).as_str())
                        && let Ok(normal) = normalize(field, text)
                    {
                        out.push((field, normal));
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn norm(field: LookupField, value: &str) -> String {
        normalize(field, value).unwrap_or_else(|e| panic!("{value:?}: {e}"))
    }

    #[test]
    fn names_lose_case_diacritics_and_punctuation() {
        assert_eq!(
            norm(LookupField::LastName, "  Zoë  O'Brien-Smith "),
            "zoe o brien smith"
        );
        assert_eq!(norm(LookupField::FirstName, "JOSÉ"), "jose");
        assert_eq!(norm(LookupField::LastName, "Straße"), "strasse");
        assert_eq!(norm(LookupField::City, "ＭÜＮＣＨＥＮ"), "munchen");
        assert_eq!(
            norm(LookupField::FirstName, "Ångström"),
            norm(LookupField::FirstName, "angstrom")
        );
    }

    #[test]
    fn identifiers_keep_upper_case_alphanumerics() {
        assert_eq!(
            norm(LookupField::DocumentNumber, "x12-345 678"),
            "X12345678"
        );
        assert_eq!(norm(LookupField::Ssn, "123-45-6789"), "123456789");
        assert_eq!(norm(LookupField::ZipCode, "sw1a 1aa"), "SW1A1AA");
        assert_eq!(norm(LookupField::DocumentNumber, "１２３"), "123");
    }

    #[test]
    fn phones_compare_by_their_last_ten_digits() {
        assert_eq!(norm(LookupField::Phone, "+1 (555) 010-9999"), "5550109999");
        assert_eq!(norm(LookupField::Phone, "555.010.9999"), "5550109999");
        assert!(normalize(LookupField::Phone, "12-34").is_err());
    }

    #[test]
    fn emails_and_dates_must_have_their_form() {
        assert_eq!(
            norm(LookupField::Email, " Jane.Doe@Example.COM "),
            "jane.doe@example.com"
        );
        assert!(normalize(LookupField::Email, "jane").is_err());
        assert!(normalize(LookupField::Email, "a@b@c").is_err());
        assert_eq!(norm(LookupField::DateOfBirth, "1990-01-31"), "1990-01-31");
        for bad in ["1990-02-30", "31/01/1990", "1990-1-31x", ""] {
            assert!(normalize(LookupField::DateOfBirth, bad).is_err(), "{bad}");
        }
        assert!(normalize(LookupField::FirstName, " -- ").is_err());
    }

    #[test]
    fn result_values_read_both_sources_and_the_address() {
        let extracted = json!({"first_name": "JANE", "last_name": "Doe",
            "date_of_birth": "1990-01-31", "document_number": "x123", "nationality": "US",
            "address": {"city": "Köln", "postal_code": "50667"}});
        let fields = json!({"firstName": "Jane", "email": "Jane@Example.com",
            "phone-number": "+49 221 1234567", "ssn": 42});
        let values = result_values(
            extracted.as_object().unwrap_or(&Map::new()),
            fields.as_object().unwrap_or(&Map::new()),
        );
        let expected: Vec<(LookupField, String)> = vec![
            (LookupField::FirstName, "jane".into()),
            (LookupField::LastName, "doe".into()),
            (LookupField::DateOfBirth, "1990-01-31".into()),
            (LookupField::DocumentNumber, "X123".into()),
            (LookupField::Email, "jane@example.com".into()),
            (LookupField::Phone, "2211234567".into()),
            (LookupField::City, "koln".into()),
            (LookupField::ZipCode, "50667".into()),
        ];
        assert_eq!(values, expected);
    }

    #[test]
    fn wire_names_round_trip() {
        for f in LookupField::ALL {
            assert_eq!(LookupField::parse(f.as_str()), Some(f));
        }
        assert_eq!(LookupField::parse("nationality"), None);
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(value in "\\PC{0,24}", i in 0usize..10) {
            let field = LookupField::ALL[i];
            if let Ok(once) = normalize(field, &value) {
                prop_assert_eq!(normalize(field, &once), Ok(once.clone()));
            }
        }

        #[test]
        fn names_ignore_case_and_spacing(name in "[A-Za-zÀ-ÿ]{1,10}( [A-Za-zÀ-ÿ]{1,10}){0,2}") {
            let shouted = format!("  {}  ", name.to_uppercase().replace(' ', " -  "));
            prop_assert_eq!(
                normalize(LookupField::LastName, &name),
                normalize(LookupField::LastName, &shouted)
            );
        }
    }
}
