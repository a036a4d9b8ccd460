//! `id_document_filter`: a country × document-type matrix.
//!
//! Config: `allowed: {COUNTRY: [types]}` (only listed pairs pass) and/or `rejected: {COUNTRY:
//! [types]}` (listed pairs fail). Country keys are alpha-2 or alpha-3 (compared after
//! [`crate::countries::normalize`]) or `*` for any country; type lists may contain `*` for any
//! type, and an empty list matches no type. Document types are compared after
//! [`normalize_document_type`] (e.g. `driver_license`, `driving_licence` → `drivers_license`).
//! With neither key every document passes.
//!
//! Inputs: country from `extracted_data.document_issuing_state`, else `nationality`, else
//! `session.country`; type from `extracted_data.document_type`. Missing either → `skipped`.

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verifa_domain::workflow::PolicySpec;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};

use crate::context::{bad_config, config_value, extracted, session, text};
use crate::{countries, specs};

/// The `id_document_filter` executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdDocumentFilter;

/// Canonical document type: lowercase, separators → `_`, common synonyms folded.
pub fn normalize_document_type(raw: &str) -> String {
    let s: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    match s.as_str() {
        "driver_license" | "drivers_licence" | "driver_licence" | "driving_license"
        | "driving_licence" | "drivers_license" | "dl" => "drivers_license".to_owned(),
        "id_card" | "identity_card" | "national_id_card" | "id" | "national_id" => {
            "national_id".to_owned()
        }
        "residence_card" | "residence_permit" => "residence_permit".to_owned(),
        _ => s,
    }
}

/// A parsed matrix: (country or `*`, types or `*`).
type Matrix = Vec<(String, Vec<String>)>;

fn parse_matrix(value: Option<&Value>, key: &str) -> Result<Option<Matrix>, String> {
    let Some(value) = value else { return Ok(None) };
    let obj: &Map<String, Value> = value
        .as_object()
        .ok_or_else(|| format!("{key} must be an object of country → document types"))?;
    let mut out = Vec::with_capacity(obj.len());
    for (country, types) in obj {
        let country = if country.trim() == "*" {
            "*".to_owned()
        } else {
            countries::normalize(country).ok_or_else(|| format!("{key} has an empty country"))?
        };
        let types = types
            .as_array()
            .ok_or_else(|| format!("{key}.{country} must be an array of document types"))?
            .iter()
            .map(|t| {
                t.as_str()
                    .map(|t| {
                        if t.trim() == "*" {
                            "*".to_owned()
                        } else {
                            normalize_document_type(t)
                        }
                    })
                    .ok_or_else(|| format!("{key}.{country} items must be strings"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push((country, types));
    }
    Ok(Some(out))
}

fn matches(matrix: &Matrix, country: &str, doc_type: &str) -> bool {
    matrix.iter().any(|(c, types)| {
        (c == "*" || c == country) && types.iter().any(|t| t == "*" || t == doc_type)
    })
}

#[async_trait]
impl CheckExecutor for IdDocumentFilter {
    fn spec(&self) -> PolicySpec {
        specs::id_document_filter()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        evaluate(request)
    }
}

/// The rule itself (synchronous; also used by the sandbox on its simulated document).
pub fn evaluate(request: &CheckRequest) -> CheckOutcome {
    {
        let parsed = config_value(&request.config, "allowed")
            .and_then(|a| parse_matrix(a, "allowed"))
            .and_then(|a| {
                config_value(&request.config, "rejected")
                    .and_then(|r| parse_matrix(r, "rejected"))
                    .map(|r| (a, r))
            });
        let (allowed, rejected) = match parsed {
            Ok(v) => v,
            Err(e) => return bad_config(e),
        };
        let data = extracted(request);
        let Some(country) = text(data, "document_issuing_state")
            .or_else(|| text(data, "issuing_country"))
            .or_else(|| text(data, "nationality"))
            .or_else(|| text(session(request), "country"))
            .and_then(|c| countries::normalize(&c))
        else {
            return CheckOutcome::skipped(
                "no document country (document_issuing_state, nationality or session.country)",
            );
        };
        let Some(doc_type) = text(data, "document_type").map(|t| normalize_document_type(&t))
        else {
            return CheckOutcome::skipped("no document_type in extracted_data");
        };
        let in_allowed = allowed
            .as_ref()
            .is_none_or(|m| matches(m, &country, &doc_type));
        let in_rejected = rejected
            .as_ref()
            .is_some_and(|m| matches(m, &country, &doc_type));
        let ok = in_allowed && !in_rejected;
        CheckOutcome::decided(
            ok,
            json!({"country": country, "document_type": doc_type, "allowed": ok, "passed": ok}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::{request, with_extracted};
    use verifa_domain::workflow::CheckStatus;

    async fn run(config: Value, extracted: Value) -> CheckOutcome {
        IdDocumentFilter
            .execute(&with_extracted("id_document_filter", config, extracted))
            .await
    }

    #[tokio::test]
    async fn allow_matrix_with_alpha3_and_synonyms() {
        let cfg = json!({"allowed": {"US": ["passport", "drivers_license"]}});
        let r = run(
            cfg.clone(),
            json!({"document_issuing_state": "USA", "document_type": "Driver License"}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed);
        assert_eq!(
            r.output,
            json!({"country": "US", "document_type": "drivers_license", "allowed": true, "passed": true})
        );
        let r = run(
            cfg.clone(),
            json!({"document_issuing_state": "USA", "document_type": "national_id"}),
        )
        .await;
        assert_eq!(
            (r.status, r.output["allowed"].clone()),
            (CheckStatus::Failed, json!(false))
        );
        let r = run(
            cfg,
            json!({"document_issuing_state": "D", "document_type": "passport"}),
        )
        .await;
        assert_eq!(r.output["country"], "DE");
        assert_eq!(r.status, CheckStatus::Failed);
    }

    #[tokio::test]
    async fn reject_matrix_wildcards_and_fallbacks() {
        let cfg = json!({"rejected": {"*": ["visa"], "IRN": ["*"]}});
        assert_eq!(
            run(
                cfg.clone(),
                json!({"nationality": "FRA", "document_type": "visa"})
            )
            .await
            .status,
            CheckStatus::Failed
        );
        assert_eq!(
            run(
                cfg.clone(),
                json!({"nationality": "FRA", "document_type": "passport"})
            )
            .await
            .status,
            CheckStatus::Passed
        );
        assert_eq!(
            run(
                cfg.clone(),
                json!({"document_issuing_state": "IR", "document_type": "passport"})
            )
            .await
            .status,
            CheckStatus::Failed
        );
        let req = request(
            "id_document_filter",
            cfg,
            json!({"extracted_data": {"document_type": "passport"}, "session": {"country": "ir"}}),
        );
        assert_eq!(
            IdDocumentFilter.execute(&req).await.status,
            CheckStatus::Failed
        );
        assert_eq!(
            run(
                json!({}),
                json!({"nationality": "SE", "document_type": "passport"})
            )
            .await
            .status,
            CheckStatus::Passed
        );
        assert_eq!(
            run(
                json!({"allowed": {"SE": []}}),
                json!({"nationality": "SE", "document_type": "passport"})
            )
            .await
            .status,
            CheckStatus::Failed
        );
    }

    #[tokio::test]
    async fn missing_input_and_bad_config() {
        assert_eq!(
            run(json!({}), json!({"document_type": "passport"}))
                .await
                .status,
            CheckStatus::Skipped
        );
        assert_eq!(
            run(json!({}), json!({"nationality": "SE"})).await.status,
            CheckStatus::Skipped
        );
        assert_eq!(
            run(
                json!({"allowed": {"US": "passport"}}),
                json!({"nationality": "US", "document_type": "passport"})
            )
            .await
            .status,
            CheckStatus::Error
        );
        assert_eq!(
            run(
                json!({"rejected": []}),
                json!({"nationality": "US", "document_type": "passport"})
            )
            .await
            .status,
            CheckStatus::Error
        );
    }
}
