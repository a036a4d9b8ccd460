//! `identity_crossref`: compares user-submitted `session.fields` (pre-fill) with the document's
//! `extracted_data`, field by field.
//!
//! - names (`first_name`, `last_name`, `full_name`): Jaro-Winkler over the normalised,
//!   token-sorted forms ([`verifa_checks_core::names::jaro_winkler_names`]: case, accents,
//!   Cyrillic/Greek transliteration and token order do not matter); a match when the score is
//!   ≥ `threshold` (default 0.85). `full_name` falls back to `first_name + last_name`.
//! - `date_of_birth`: the same calendar date (both parsed as `YYYY-MM-DD`).
//! - `document_number`: equal after upper-casing and dropping non-alphanumerics.
//! - `nationality`: equal after alpha-3 → alpha-2 normalisation.
//!
//! Only fields present on both sides are compared (the others are listed in `not_compared`);
//! nothing to compare → `skipped`. Passes when every compared field matches.

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verifa_checks_core::names;
use verifa_domain::workflow::PolicySpec;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};

use crate::context::{
    bad_config, config_list, config_unit, extracted, fields, full_name, parse_date, text,
};
use crate::{countries, specs};

/// Default name-similarity threshold.
pub const DEFAULT_THRESHOLD: f64 = 0.85;
/// Default compared fields.
pub const DEFAULT_FIELDS: [&str; 3] = ["first_name", "last_name", "date_of_birth"];

/// The `identity_crossref` executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityCrossref;

fn value_of(map: Option<&Map<String, Value>>, field: &str) -> Option<String> {
    if field == "full_name" {
        text(map, "full_name").or_else(|| full_name(map))
    } else {
        text(map, field)
    }
}

fn alnum_upper(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Compares one field; returns (score, match).
pub fn compare(field: &str, user: &str, document: &str, threshold: f64) -> (f64, bool) {
    let exact = |eq: bool| (if eq { 1.0 } else { 0.0 }, eq);
    match field {
        "date_of_birth" => match (parse_date(user), parse_date(document)) {
            (Some(a), Some(b)) => exact(a == b),
            _ => exact(false),
        },
        "document_number" => {
            let (a, b) = (alnum_upper(user), alnum_upper(document));
            exact(!a.is_empty() && a == b)
        }
        "nationality" => exact(countries::normalize(user) == countries::normalize(document)),
        _ => {
            let score = names::jaro_winkler_names(user, document);
            let score = if score.is_finite() {
                score.clamp(0.0, 1.0)
            } else {
                0.0
            };
            (score, score >= threshold)
        }
    }
}

#[async_trait]
impl CheckExecutor for IdentityCrossref {
    fn spec(&self) -> PolicySpec {
        specs::identity_crossref()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        let config = config_unit(&request.config, "threshold", DEFAULT_THRESHOLD).and_then(|t| {
            config_list(
                &request.config,
                "fields",
                &DEFAULT_FIELDS,
                &specs::CROSSREF_FIELDS,
            )
            .map(|f| (t, f))
        });
        let (threshold, wanted) = match config {
            Ok(v) => v,
            Err(e) => return bad_config(e),
        };
        let user = fields(request);
        if user.is_none_or(Map::is_empty) {
            return CheckOutcome::skipped("no user-submitted fields to compare");
        }
        let document = extracted(request);
        let mut results = Map::new();
        let mut mismatches = Vec::new();
        let mut not_compared = Vec::new();
        for field in wanted {
            let (Some(u), Some(d)) = (value_of(user, field), value_of(document, field)) else {
                not_compared.push(field);
                continue;
            };
            let (score, matched) = compare(field, &u, &d, threshold);
            let score = (score * 1000.0).round() / 1000.0;
            results.insert(field.to_owned(), json!({"match": matched, "score": score}));
            if !matched {
                mismatches.push(field);
            }
        }
        if results.is_empty() {
            return CheckOutcome::skipped(
                "none of the configured fields is present in both the submitted fields and the extracted data",
            );
        }
        let passed = mismatches.is_empty();
        CheckOutcome::decided(
            passed,
            json!({
                "fields": results,
                "compared": results.len(),
                "mismatches": mismatches,
                "not_compared": not_compared,
                "threshold": threshold,
                "passed": passed,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::request;
    use verifa_domain::workflow::CheckStatus;

    async fn run(config: Value, user: Value, extracted: Value) -> CheckOutcome {
        let ctx = json!({"extracted_data": extracted, "session": {"fields": user}});
        IdentityCrossref
            .execute(&request("identity_crossref", config, ctx))
            .await
    }

    #[tokio::test]
    async fn accents_case_and_transliteration_match() {
        let r = run(
            json!({}),
            json!({"first_name": "josé", "last_name": "MÜLLER", "date_of_birth": "1990-01-02"}),
            json!({"first_name": "JOSE", "last_name": "Muller", "date_of_birth": "1990-01-02"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed, "{:?}", r.output);
        assert_eq!(
            r.output["fields"]["first_name"],
            json!({"match": true, "score": 1.0})
        );
        assert_eq!(r.output["fields"]["date_of_birth"]["match"], true);
        assert_eq!(r.output["passed"], true);

        let r = run(
            json!({"fields": ["full_name"]}),
            json!({"full_name": "Ольга Белова"}),
            json!({"first_name": "OLGA", "last_name": "BELOVA"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed, "{:?}", r.output);
        let r = run(
            json!({"fields": ["last_name"]}),
            json!({"last_name": "Παπαδόπουλος"}),
            json!({"last_name": "PAPADOPOULOS"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed, "{:?}", r.output);
    }

    #[tokio::test]
    async fn fuzzy_typo_passes_different_name_and_dob_fail() {
        let r = run(
            json!({}),
            json!({"first_name": "Jonathan"}),
            json!({"first_name": "Jonathon"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed);
        let r = run(
            json!({}),
            json!({"first_name": "Jane", "last_name": "Doe", "date_of_birth": "1997-06-15"}),
            json!({"first_name": "Jane", "last_name": "Smith", "date_of_birth": "1997-06-16"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Failed);
        assert_eq!(r.output["fields"]["last_name"]["match"], false);
        assert_eq!(
            r.output["mismatches"],
            json!(["last_name", "date_of_birth"])
        );
        // A stricter threshold turns the typo into a mismatch.
        let r = run(
            json!({"threshold": 0.99}),
            json!({"first_name": "Jonathan"}),
            json!({"first_name": "Jonathon"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Failed);
    }

    #[tokio::test]
    async fn nothing_to_compare_is_skipped() {
        assert_eq!(
            run(json!({}), json!({}), json!({"first_name": "A"}))
                .await
                .status,
            CheckStatus::Skipped
        );
        assert_eq!(
            run(
                json!({}),
                json!({"email": "a@b.c"}),
                json!({"first_name": "A"})
            )
            .await
            .status,
            CheckStatus::Skipped
        );
        let r = IdentityCrossref
            .execute(&request("identity_crossref", json!({}), json!({})))
            .await;
        assert_eq!(r.status, CheckStatus::Skipped);
        assert_eq!(
            run(
                json!({"threshold": 3}),
                json!({"first_name": "A"}),
                json!({"first_name": "A"})
            )
            .await
            .status,
            CheckStatus::Error
        );
    }

    #[tokio::test]
    async fn documents_and_nationality() {
        let r = run(
            json!({"fields": ["document_number", "nationality"]}),
            json!({"document_number": "l898 902-c3", "nationality": "SE"}),
            json!({"document_number": "L898902C3", "nationality": "SWE"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed, "{:?}", r.output);
    }
}
