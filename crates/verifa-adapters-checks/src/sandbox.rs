//! Sandbox executors: the reference's simulated results (§18 "magic values") for sandbox keys.
//!
//! Every policy passes with deterministic data: `document_ocr` extracts Jane Doe, born
//! 1997-06-15, `drivers_license` (issuing state US, number `SANDBOX0000`, expiring five years
//! after today); `face_match_score` 0.95; `age_verification` computes the age of 1997-06-15 on
//! `today` (28 in the reference's year) against the configured `minimum_age`; `risk_assessment`
//! is low with score 10 and no signals; screenings have no hits; duplicates have no matches.
//! Config values are honoured where they change the verdict (`minimum_age`,
//! `id_document_filter`'s matrix, `auto_approve`, face-match thresholds).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Months, NaiveDate};
use serde_json::{Value, json};
use verifa_domain::workflow::PolicySpec;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRegistry, CheckRequest};

use crate::context::{config_enum, config_u32, config_unit};
use crate::specs;

/// Magic first name.
pub const FIRST_NAME: &str = "Jane";
/// Magic last name.
pub const LAST_NAME: &str = "Doe";
/// Magic date of birth.
pub const DATE_OF_BIRTH: &str = "1997-06-15";
/// Magic document type.
pub const DOCUMENT_TYPE: &str = "drivers_license";
/// Magic face-match score.
pub const FACE_MATCH_SCORE: f64 = 0.95;
/// Magic risk score (level low).
pub const RISK_SCORE: u32 = 10;

fn dob() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1997, 6, 15)
}

fn expiry(today: NaiveDate) -> String {
    today
        .checked_add_months(Months::new(60))
        .unwrap_or(today)
        .format("%Y-%m-%d")
        .to_string()
}

/// The simulated `extracted_data`.
pub fn extracted_data(today: NaiveDate) -> Value {
    json!({
        "first_name": FIRST_NAME,
        "last_name": LAST_NAME,
        "full_name": format!("{FIRST_NAME} {LAST_NAME}"),
        "date_of_birth": DATE_OF_BIRTH,
        "document_type": DOCUMENT_TYPE,
        "document_number": "SANDBOX0000",
        "document_issuing_state": "US",
        "nationality": "US",
        "gender": "F",
        "document_expiration_date": expiry(today),
    })
}

fn config_error(e: String) -> CheckOutcome {
    crate::context::bad_config(e)
}

/// The simulated outcome of `policy` with `config` on `today`.
pub fn sandbox_outcome(policy: &str, config: &Value, today: NaiveDate) -> CheckOutcome {
    let pass = |output: Value| CheckOutcome::decided(true, output);
    match policy {
        "document_ocr" => pass(json!({
            "extracted_data": extracted_data(today),
            "mrz_valid": true,
            "mrz_format": "td1",
            "check_digits": [],
            "document_type": DOCUMENT_TYPE,
            "passed": true,
        })),
        "face_match" => {
            let level = match config_enum(
                config,
                "security_level",
                "standard",
                &["standard", "strict", "very_strict"],
            ) {
                Ok(l) => l,
                Err(e) => return config_error(e),
            };
            let level_threshold = match level {
                "very_strict" => 0.60,
                "strict" => 0.50,
                _ => 0.35,
            };
            let threshold = match config_unit(config, "threshold", level_threshold) {
                Ok(t) => t,
                Err(e) => return config_error(e),
            };
            let passed = FACE_MATCH_SCORE >= threshold;
            CheckOutcome::decided(
                passed,
                json!({"face_match_score": FACE_MATCH_SCORE, "threshold": threshold, "liveness_passed": true, "passed": passed}),
            )
        }
        "age_verification" => {
            let min = match config_u32(
                config,
                "minimum_age",
                crate::age_verification::DEFAULT_MINIMUM_AGE,
                0,
                150,
            ) {
                Ok(m) => m,
                Err(e) => return config_error(e),
            };
            match dob() {
                Some(d) => crate::age_verification::evaluate(d, today, min),
                None => CheckOutcome::error("sandbox date of birth is invalid"),
            }
        }
        "document_expiration" => pass(json!({
            "expiration_date": expiry(today),
            "days_until_expiry": today.checked_add_months(Months::new(60)).map_or(0, |e| (e - today).num_days()),
            "expired": false,
            "within_grace": false,
            "grace_days": config.get("grace_days").cloned().unwrap_or(json!(0)),
            "passed": true,
        })),
        "id_document_filter" => {
            // Apply the configured matrix to the simulated document.
            crate::id_document_filter::evaluate(&simulated_request(policy, config, today))
        }
        "identity_crossref" => pass(json!({
            "fields": {
                "first_name": {"match": true, "score": 1.0},
                "last_name": {"match": true, "score": 1.0},
                "date_of_birth": {"match": true, "score": 1.0},
            },
            "compared": 3,
            "mismatches": [],
            "not_compared": [],
            "passed": true,
        })),
        "duplicate_detection" => pass(json!({
            "matches": [],
            "match_count": 0,
            "attributes_checked": specs::DUPLICATE_ATTRIBUTES,
            "passed": true,
        })),
        "watchlist_screening" => pass(json!({
            "hits": [],
            "hit_count": 0,
            "threshold": config.get("threshold").cloned().unwrap_or(json!(verifa_checks_core::screening::DEFAULT_THRESHOLD)),
            "passed": true,
        })),
        "aml_screening" => pass(json!({"hits": [], "hit_count": 0, "passed": true})),
        "risk_assessment" => pass(json!({
            "risk_score": RISK_SCORE,
            "risk_level": "low",
            "signals": [],
            "blocked": false,
            "passed": true,
        })),
        "auto_approve" => pass(json!({"passed": true, "reasons": [],
            "max_risk_level": config.get("max_risk_level").cloned().unwrap_or(json!("medium"))})),
        "nfc_chip_auth" => pass(json!({
            "passive_authentication": true,
            "active_authentication": true,
            "chip_data_matches": true,
            "chip_face_match_score": FACE_MATCH_SCORE,
            "passed": true,
        })),
        "email_risk_enhanced" | "phone_risk_enhanced" => {
            pass(json!({"risk_score": RISK_SCORE, "risk_level": "low", "passed": true}))
        }
        "proof_of_address_check" => pass(json!({
            "address_verified": true,
            "name_match": true,
            "document_date": today.format("%Y-%m-%d").to_string(),
            "passed": true,
        })),
        other => CheckOutcome::error(format!("no sandbox simulation for policy '{other}'")),
    }
}

fn simulated_request(policy: &str, config: &Value, today: NaiveDate) -> CheckRequest {
    use verifa_domain::tenancy::{Environment, Tenant};
    CheckRequest {
        tenant: Tenant::new("org_sandbox", Environment::Sandbox),
        session_id: String::new(),
        run_id: String::new(),
        node_id: String::new(),
        policy: policy.to_owned(),
        config: config.clone(),
        attempt: 1,
        context: json!({"extracted_data": extracted_data(today)}),
        documents: Vec::new(),
        today,
    }
}

/// A policy whose results are simulated.
#[derive(Debug, Clone)]
pub struct SandboxExecutor {
    spec: PolicySpec,
}

impl SandboxExecutor {
    /// The sandbox executor of a built-in policy (`None` for an unknown name).
    pub fn new(policy: &str) -> Option<Self> {
        specs::by_name(policy).map(|spec| Self { spec })
    }
}

#[async_trait]
impl CheckExecutor for SandboxExecutor {
    fn spec(&self) -> PolicySpec {
        self.spec.clone()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        sandbox_outcome(&self.spec.name, &request.config, request.today)
    }
}

/// Every built-in policy, simulated (same catalogue as the builtin registry).
pub fn sandbox_registry() -> CheckRegistry {
    let mut registry = CheckRegistry::new();
    for policy in specs::POLICIES {
        if let Some(e) = SandboxExecutor::new(policy) {
            registry.register(Arc::new(e));
        }
    }
    registry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::{d, request};
    use verifa_domain::workflow::CheckStatus;

    #[test]
    fn magic_values() {
        let today = d(2026, 3, 1);
        let ocr = sandbox_outcome("document_ocr", &json!({}), today);
        assert_eq!(ocr.status, CheckStatus::Passed);
        let data = &ocr.output["extracted_data"];
        assert_eq!(
            (data["first_name"].as_str(), data["last_name"].as_str()),
            (Some("Jane"), Some("Doe"))
        );
        assert_eq!(data["date_of_birth"], "1997-06-15");
        assert_eq!(data["document_type"], "drivers_license");
        assert_eq!(data["document_expiration_date"], "2031-03-01");
        let face = sandbox_outcome("face_match", &json!({}), today);
        assert_eq!(face.output["face_match_score"], 0.95);
        assert_eq!(face.status, CheckStatus::Passed);
        let age = sandbox_outcome("age_verification", &json!({}), today);
        assert_eq!(
            (age.status, age.output["age"].clone()),
            (CheckStatus::Passed, json!(28))
        );
        assert_eq!(
            sandbox_outcome("age_verification", &json!({}), d(2026, 6, 15)).output["age"],
            29
        );
        let strict = sandbox_outcome("age_verification", &json!({"minimum_age": 30}), today);
        assert_eq!(strict.status, CheckStatus::Failed);
        let risk = sandbox_outcome("risk_assessment", &json!({}), today);
        assert_eq!(
            (
                risk.output["risk_score"].clone(),
                risk.output["risk_level"].clone()
            ),
            (json!(10), json!("low"))
        );
        assert_eq!(
            sandbox_outcome("watchlist_screening", &json!({}), today).output["hits"],
            json!([])
        );
        let filtered = sandbox_outcome(
            "id_document_filter",
            &json!({"allowed": {"US": ["passport"]}}),
            today,
        );
        assert_eq!(filtered.status, CheckStatus::Failed);
        assert_eq!(
            sandbox_outcome("id_document_filter", &json!({}), today).status,
            CheckStatus::Passed
        );
        assert_eq!(
            sandbox_outcome("nope", &json!({}), today).status,
            CheckStatus::Error
        );
    }

    #[tokio::test]
    async fn every_policy_passes_with_defaults() {
        let registry = sandbox_registry();
        for policy in specs::POLICIES {
            let exec = registry.get(policy).unwrap();
            let r = exec.execute(&request(policy, json!({}), json!({}))).await;
            assert_eq!(r.status, CheckStatus::Passed, "{policy}: {:?}", r.error);
            assert_eq!(r.output["passed"], true, "{policy}");
        }
    }
}
