//! Identity search (CONTRACT §7.3): direct filters (`external_ref`, `status`, `country`) and
//! personal data matched only through keyed lookup hashes, so no plaintext is ever read or
//! compared. The same normal forms and key make the hashes written with every result
//! ([`result_lookups`]), so a search value finds what a session recorded.

use super::IdentityService;
use crate::actor::Caller;
use crate::crypto::LookupKey;
use crate::error::{AppError, FieldError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use verifa_domain::identity::lookup::{self, LookupField};
use verifa_domain::identity::{Identity, IdentityStatus};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_ports::identities::IdentitySearch;

/// A search as received.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Exact `external_ref`.
    pub external_ref: Option<String>,
    /// Status (`verified` is `approved`).
    pub status: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// Personal data to match by hash.
    pub hashed: BTreeMap<LookupField, String>,
}

/// The name fields that only search together (a name alone matches too many people).
const NAME_AND_BIRTH: [LookupField; 3] = [
    LookupField::FirstName,
    LookupField::LastName,
    LookupField::DateOfBirth,
];

/// The lookup hashes of a result's personal data: every value of [`lookup::result_values`],
/// hashed under `key`.
pub(crate) fn result_lookups(
    key: &LookupKey,
    extracted: &Map<String, Value>,
    fields: &Map<String, Value>,
) -> Vec<String> {
    // Distinct values of distinct fields hash apart; the store keeps each hash once anyway.
    lookup::result_values(extracted, fields)
        .into_iter()
        .map(|(field, normal)| key.hash(field.as_str(), &normal))
        .collect()
}

impl IdentityService {
    /// Identities matching every filter of `query`, newest first, archived ones included.
    pub async fn search(
        &self,
        caller: &Caller,
        query: SearchQuery,
        page: PageRequest,
    ) -> Result<Page<Identity>, AppError> {
        let search = search_of(&self.lookup_key, query)?;
        Ok(self.store.search(&caller.tenant(), &search, page).await?)
    }
}

/// Validates a query and hashes its personal data.
fn search_of(key: &LookupKey, query: SearchQuery) -> Result<IdentitySearch, AppError> {
    let mut errors = Vec::new();
    let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let external_ref = blank(query.external_ref);
    let status = blank(query.status).and_then(|s| {
        let parsed = IdentityStatus::parse_filter(&s);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "status",
                "must be one of pending, approved, verified, failed, rejected, redacted, merged",
            ));
        }
        parsed
    });
    let country = blank(query.country).and_then(|c| {
        let upper = c.trim().to_ascii_uppercase();
        if upper.len() == 2 && upper.chars().all(|ch| ch.is_ascii_uppercase()) {
            Some(upper)
        } else {
            errors.push(FieldError::new(
                "country",
                "must be an ISO 3166-1 alpha-2 code",
            ));
            None
        }
    });
    let hashed: BTreeMap<LookupField, String> = query
        .hashed
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let names_given = NAME_AND_BIRTH
        .iter()
        .filter(|f| hashed.contains_key(f))
        .count();
    if names_given > 0 && names_given < NAME_AND_BIRTH.len() {
        for field in NAME_AND_BIRTH.iter().filter(|f| !hashed.contains_key(f)) {
            errors.push(FieldError::new(
                field.as_str(),
                "is required with first_name, last_name and date_of_birth (they search together)",
            ));
        }
    }
    let mut lookups = Vec::with_capacity(hashed.len()); // one per field: distinct
    for (field, value) in &hashed {
        match lookup::normalize(*field, value) {
            Ok(normal) => lookups.push(key.hash(field.as_str(), &normal)),
            Err(lookup::LookupError::Unusable { field, problem }) => {
                errors.push(FieldError::new(field, problem));
            }
        }
    }
    if external_ref.is_none() && status.is_none() && country.is_none() && hashed.is_empty() {
        errors.push(FieldError::new(
            "body",
            "must give at least one filter: external_ref, status, country, first_name with \
             last_name and date_of_birth, document_number, ssn, email, phone, city, state or \
             zip_code",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(IdentitySearch {
        external_ref,
        status,
        country,
        lookups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> LookupKey {
        LookupKey::new(&[3; 32]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn hashed(pairs: &[(LookupField, &str)]) -> SearchQuery {
        SearchQuery {
            hashed: pairs.iter().map(|(f, v)| (*f, (*v).to_owned())).collect(),
            ..SearchQuery::default()
        }
    }

    fn problems(query: SearchQuery) -> Vec<String> {
        match search_of(&key(), query) {
            Err(AppError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_search_value_hashes_like_the_recorded_one() {
        let extracted = json!({"first_name": "Zoë", "last_name": "O'Brien",
            "date_of_birth": "1990-01-31", "document_number": "ab 123"});
        let recorded = result_lookups(
            &key(),
            extracted.as_object().unwrap_or(&Map::new()),
            &Map::new(),
        );
        let search = search_of(
            &key(),
            hashed(&[
                (LookupField::FirstName, "ZOE"),
                (LookupField::LastName, "o brien"),
                (LookupField::DateOfBirth, "1990-01-31"),
                (LookupField::DocumentNumber, "AB-123"),
            ]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(search.lookups.len(), 4);
        assert!(search.lookups.iter().all(|h| recorded.contains(h)));
        assert!(recorded.iter().all(|h| !h.contains("zoe") && h.len() == 64));
    }

    #[test]
    fn names_need_all_three_and_an_empty_search_is_refused() {
        assert_eq!(
            problems(hashed(&[(LookupField::FirstName, "Jane")])),
            ["last_name", "date_of_birth"]
        );
        assert_eq!(problems(SearchQuery::default()), ["body"]);
        assert_eq!(
            problems(hashed(&[(LookupField::Email, "   ")])),
            ["body"],
            "a blank value is no filter"
        );
    }

    #[test]
    fn malformed_values_name_their_field() {
        let query = SearchQuery {
            country: Some("USA".into()),
            status: Some("happy".into()),
            ..hashed(&[(LookupField::Email, "nope"), (LookupField::Phone, "12")])
        };
        let mut fields = problems(query);
        fields.sort();
        assert_eq!(fields, ["country", "email", "phone", "status"]);
    }

    #[test]
    fn direct_filters_pass_through_normalised() {
        let search = search_of(
            &key(),
            SearchQuery {
                external_ref: Some("user_1".into()),
                status: Some("verified".into()),
                country: Some("de".into()),
                ..SearchQuery::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(search.external_ref.as_deref(), Some("user_1"));
        assert_eq!(search.status, Some(IdentityStatus::Approved));
        assert_eq!(search.country.as_deref(), Some("DE"));
        assert!(search.lookups.is_empty());
    }
}
