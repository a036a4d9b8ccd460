//! `duplicate_detection`: finds the organization's other sessions (same environment) that share
//! a document number, email, phone or name + date of birth.
//!
//! Values are normalised ([`normalize`]) and then fingerprinted as
//! `hex(HMAC-SHA256(key, "<attribute>:<normalised value>"))`, so equal values collide only within
//! one attribute and the store never sees plaintext; neither values nor fingerprints are logged.
//! Sources, first found wins: `extracted_data`, then `session.fields`, then `session.metadata`.
//! Outputs `matches: [{session_id, attributes}]`, `match_count`, `attributes_checked`;
//! passes when there is no match. No attribute available → `skipped`; index failure →
//! `requires_retry` (unavailable) or `error`.

use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use verifa_checks_core::names;
use verifa_domain::workflow::PolicySpec;
use verifa_ports::RepoError;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};
use verifa_ports::duplicates::DuplicateIndex;

use crate::context::{
    bad_config, config_list, extracted, fields, full_name, metadata, parse_date, text,
};
use crate::specs;

/// The `duplicate_detection` executor.
pub struct DuplicateDetection {
    index: Arc<dyn DuplicateIndex>,
    key: Vec<u8>,
}

impl std::fmt::Debug for DuplicateDetection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuplicateDetection").finish_non_exhaustive()
    }
}

impl DuplicateDetection {
    /// Uses `index` and the secret HMAC `key`.
    pub fn new(index: Arc<dyn DuplicateIndex>, key: Vec<u8>) -> Self {
        Self { index, key }
    }
}

/// The normalised form of an attribute value, or `None` when nothing usable remains.
/// - `document_number`: ASCII alphanumerics, upper-cased;
/// - `email`: trimmed, lower-cased, must contain `@` with text on both sides;
/// - `phone`: digits only, the last 10 (so `+1 555…` and `555…` agree), at least 7 digits;
/// - `name_dob`: `"<normalised, token-sorted name>|<YYYY-MM-DD>"` (input `"name|date"`).
pub fn normalize(attribute: &str, value: &str) -> Option<String> {
    let out = match attribute {
        "document_number" => value
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        "email" => {
            let e = value.trim().to_lowercase();
            let (local, domain) = e.split_once('@')?;
            if local.is_empty() || domain.is_empty() {
                return None;
            }
            e
        }
        "phone" => {
            let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
            if digits.len() < 7 {
                return None;
            }
            digits
                .iter()
                .skip(digits.len().saturating_sub(10))
                .collect()
        }
        "name_dob" => {
            let (name, date) = value.rsplit_once('|')?;
            let name = names::normalize_sorted(name);
            let date = parse_date(date)?;
            if name.is_empty() {
                return None;
            }
            format!("{name}|{}", date.format("%Y-%m-%d"))
        }
        _ => return None,
    };
    (!out.is_empty()).then_some(out)
}

/// `hex(HMAC-SHA256(key, "<attribute>:<normalised>"))`.
pub fn fingerprint(key: &[u8], attribute: &str, normalised: &str) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(attribute.as_bytes());
    mac.update(b":");
    mac.update(normalised.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// The raw value of an attribute from the request (before normalisation).
fn raw_value(request: &CheckRequest, attribute: &str) -> Option<String> {
    let sources = [extracted(request), fields(request), metadata(request)];
    match attribute {
        "name_dob" => sources.iter().find_map(|m| {
            let name = full_name(*m)?;
            let dob = text(*m, "date_of_birth")?;
            Some(format!("{name}|{dob}"))
        }),
        "phone" => sources
            .iter()
            .find_map(|m| text(*m, "phone").or_else(|| text(*m, "phone_number"))),
        other => sources.iter().find_map(|m| text(*m, other)),
    }
}

#[async_trait]
impl CheckExecutor for DuplicateDetection {
    fn spec(&self) -> PolicySpec {
        specs::duplicate_detection()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        let attributes = match config_list(
            &request.config,
            "attributes",
            &specs::DUPLICATE_ATTRIBUTES,
            &specs::DUPLICATE_ATTRIBUTES,
        ) {
            Ok(v) => v,
            Err(e) => return bad_config(e),
        };
        if self.key.is_empty() {
            return CheckOutcome::error("duplicate detection has no hash key configured");
        }
        let mut prints = Vec::new();
        let mut checked = Vec::new();
        for attribute in attributes {
            let Some(normalised) =
                raw_value(request, attribute).and_then(|v| normalize(attribute, &v))
            else {
                continue;
            };
            let Some(fp) = fingerprint(&self.key, attribute, &normalised) else {
                return CheckOutcome::error("could not compute a duplicate fingerprint");
            };
            prints.push((attribute.to_owned(), fp));
            checked.push(attribute);
        }
        if prints.is_empty() {
            return CheckOutcome::skipped("none of the configured attributes is available");
        }
        let matches = match self
            .index
            .record_and_match(&request.tenant, &request.session_id, &prints)
            .await
        {
            Ok(m) => m,
            Err(RepoError::Unavailable(e)) => {
                tracing::warn!(error = %e, "duplicate index unavailable");
                return CheckOutcome::retry("duplicate index unavailable");
            }
            Err(e) => {
                tracing::error!(error = %e, "duplicate index failed");
                return CheckOutcome::error("duplicate index failed");
            }
        };
        let passed = matches.is_empty();
        let list: Vec<_> = matches
            .iter()
            .map(|m| json!({"session_id": m.session_id, "attributes": m.attributes}))
            .collect();
        CheckOutcome::decided(
            passed,
            json!({
                "matches": list,
                "match_count": matches.len(),
                "attributes_checked": checked,
                "passed": passed,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::request;
    use serde_json::Value;
    use verifa_domain::tenancy::{Environment, Tenant};
    use verifa_domain::workflow::CheckStatus;
    use verifa_fakes::InMemoryDuplicateIndex;

    fn req(
        session: &str,
        tenant: Tenant,
        config: Value,
        extracted: Value,
        user: Value,
    ) -> CheckRequest {
        let mut r = request(
            "duplicate_detection",
            config,
            json!({"extracted_data": extracted, "session": {"fields": user, "metadata": {}}}),
        );
        r.session_id = session.into();
        r.tenant = tenant;
        r
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            normalize("document_number", "l898-902 c3").as_deref(),
            Some("L898902C3")
        );
        assert_eq!(
            normalize("email", "  Jane.Doe@Example.COM ").as_deref(),
            Some("jane.doe@example.com")
        );
        assert_eq!(normalize("email", "nope"), None);
        assert_eq!(
            normalize("phone", "+1 (555) 010-9999").as_deref(),
            Some("5550109999")
        );
        assert_eq!(
            normalize("phone", "555-0109999").as_deref(),
            Some("5550109999")
        );
        assert_eq!(normalize("phone", "12"), None);
        assert_eq!(
            normalize("name_dob", "DOE  Jané|1997-06-15").as_deref(),
            Some("doe jane|1997-06-15")
        );
        assert_eq!(normalize("name_dob", "Jane Doe|yesterday"), None);
        assert_eq!(normalize("document_number", "--"), None);
        let a = fingerprint(b"k", "email", "x@y").unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, fingerprint(b"k", "phone", "x@y").unwrap());
        assert_ne!(a, fingerprint(b"k2", "email", "x@y").unwrap());
        assert!(!a.contains("x@y"));
    }

    #[tokio::test]
    async fn matches_across_sessions_and_isolates_tenants() {
        let index = Arc::new(InMemoryDuplicateIndex::new());
        let exec = DuplicateDetection::new(index.clone(), b"secret".to_vec());
        let live = Tenant::new("org_1", Environment::Live);
        let first = exec
            .execute(&req(
                "ses_a",
                live.clone(),
                json!({}),
                json!({"document_number": "X123456", "first_name": "Jane", "last_name": "Doe", "date_of_birth": "1997-06-15"}),
                json!({"email": "jane@example.com", "phone": "+1 555 010 9999"}),
            ))
            .await;
        assert_eq!(first.status, CheckStatus::Passed);
        assert_eq!(first.output["match_count"], 0);
        assert_eq!(
            first.output["attributes_checked"],
            json!(["document_number", "email", "phone", "name_dob"])
        );

        let second = exec
            .execute(&req(
                "ses_b",
                live.clone(),
                json!({}),
                json!({"document_number": "x-123456", "first_name": "JANE", "last_name": "DOE", "date_of_birth": "1997-06-15"}),
                json!({"email": " JANE@example.com", "phone": "5550109999"}),
            ))
            .await;
        assert_eq!(second.status, CheckStatus::Failed);
        assert_eq!(
            second.output["matches"],
            json!([{"session_id": "ses_a", "attributes": ["document_number", "email", "name_dob", "phone"]}])
        );
        assert_eq!(second.output["passed"], false);
        // Nothing in the output or the index is plaintext.
        assert!(!second.output.to_string().contains("jane@example.com"));

        // Same data in the sandbox environment or another org: no match.
        for tenant in [
            Tenant::new("org_1", Environment::Sandbox),
            Tenant::new("org_2", Environment::Live),
        ] {
            let r = exec
                .execute(&req(
                    "ses_c",
                    tenant,
                    json!({}),
                    json!({"document_number": "X123456"}),
                    json!({}),
                ))
                .await;
            assert_eq!(r.status, CheckStatus::Passed);
        }
        // Limiting attributes.
        let r = exec
            .execute(&req(
                "ses_d",
                live,
                json!({"attributes": ["email"]}),
                json!({"document_number": "X123456"}),
                json!({"email": "other@example.com"}),
            ))
            .await;
        assert_eq!(r.status, CheckStatus::Passed);
        assert_eq!(r.output["attributes_checked"], json!(["email"]));
    }

    #[tokio::test]
    async fn skipped_without_attributes_and_error_without_key() {
        let index = Arc::new(InMemoryDuplicateIndex::new());
        let live = Tenant::new("org_1", Environment::Live);
        let exec = DuplicateDetection::new(index.clone(), b"k".to_vec());
        let r = exec
            .execute(&req("s", live.clone(), json!({}), json!({}), json!({})))
            .await;
        assert_eq!(r.status, CheckStatus::Skipped);
        let exec = DuplicateDetection::new(index, Vec::new());
        let r = exec
            .execute(&req(
                "s",
                live,
                json!({}),
                json!({"document_number": "X1"}),
                json!({}),
            ))
            .await;
        assert_eq!(r.status, CheckStatus::Error);
    }
}
