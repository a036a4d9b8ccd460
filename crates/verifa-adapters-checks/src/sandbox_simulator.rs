//! The sandbox's results as dry-runs and simulated sessions need them
//! ([`SandboxChecks`]). Passing results are the sandbox executors' ([`sandbox_outcome`]).
//! Failing ones keep the sandbox applicant (Jane Doe, born 1997-06-15) and change only what
//! decides the check — a face match below every threshold, one screening hit, a blocking risk
//! signal — so a simulated decline reads like a real one. What the sandbox document settles
//! cannot fail: it is always read (`document_ocr`: its data are the reference's magic values),
//! and its age, type and expiry pass (`age_verification`, `id_document_filter`,
//! `document_expiration`).

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::{Value, json};
use verifa_domain::workflow::{CheckStatus, SandboxChecks, SimulatedCheck};
use verifa_ports::clock::Clock;

use crate::risk_assessment;
use crate::sandbox::{FIRST_NAME, LAST_NAME, sandbox_outcome};

/// Face-match score of a simulated failure: below every configurable threshold's default.
pub const FAILING_FACE_MATCH_SCORE: f64 = 0.21;

/// The sandbox's results on the clock's date.
pub struct SandboxSimulator {
    clock: Arc<dyn Clock>,
}

impl SandboxSimulator {
    /// Results as of `clock`'s date (ages and expiry dates depend on it).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }

    fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }
}

impl SandboxChecks for SandboxSimulator {
    fn passing(&self, policy: &str, config: &Value) -> SimulatedCheck {
        let outcome = sandbox_outcome(policy, config, self.today());
        SimulatedCheck {
            status: outcome.status,
            output: outcome.output,
        }
    }

    fn failing(&self, policy: &str, config: &Value) -> Option<SimulatedCheck> {
        failing_output(policy, config, self.today()).map(|output| SimulatedCheck {
            status: CheckStatus::Failed,
            output,
        })
    }
}

/// The output of a failed `policy`, or `None` when it cannot fail for the sandbox applicant.
pub fn failing_output(policy: &str, config: &Value, today: NaiveDate) -> Option<Value> {
    let base = sandbox_outcome(policy, config, today);
    if !matches!(base.status, CheckStatus::Passed | CheckStatus::Failed) {
        return None; // a configuration error stays an error
    }
    let mut output = base.output;
    let fields = output.as_object_mut()?;
    let mut set = |key: &str, value: Value| {
        fields.insert(key.to_owned(), value);
    };
    match policy {
        "face_match" => set("face_match_score", json!(FAILING_FACE_MATCH_SCORE)),
        "identity_crossref" => {
            set(
                "fields",
                json!({
                    "first_name": {"match": true, "score": 1.0},
                    "last_name": {"match": false, "score": 0.41},
                    "date_of_birth": {"match": true, "score": 1.0},
                }),
            );
            set("mismatches", json!(["last_name"]));
        }
        "duplicate_detection" => {
            set(
                "matches",
                json!([{"session_id": "ses_sandbox_duplicate", "attributes": ["document_number"]}]),
            );
            set("match_count", json!(1));
        }
        "watchlist_screening" | "aml_screening" => {
            let name = format!("{FIRST_NAME} {LAST_NAME}");
            set(
                "hits",
                json!([{"entry_id": "sandbox-hit-1", "name": name, "list": "Sandbox", "score": 0.95}]),
            );
            set("hit_count", json!(1));
        }
        "risk_assessment" => {
            let a = risk_assessment::assess(&["camera_injection_detected".to_owned()], None, None)
                .ok()?;
            set("risk_score", json!(a.risk_score));
            set("risk_level", json!(a.risk_level));
            set(
                "signals",
                Value::Array(
                    a.signals
                        .iter()
                        .map(|(n, w, action)| json!({"name": n, "weight": w, "action": action}))
                        .collect(),
                ),
            );
            set("blocked", json!(a.blocked));
        }
        "auto_approve" => set("reasons", json!(["risk_level above max_risk_level"])),
        "nfc_chip_auth" => set("chip_data_matches", json!(false)),
        "email_risk_enhanced" | "phone_risk_enhanced" => {
            set("risk_score", json!(85));
            set("risk_level", json!("high"));
        }
        "proof_of_address_check" => set("address_verified", json!(false)),
        _ => return None,
    }
    fields.insert("passed".into(), json!(false));
    Some(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::specs;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    }

    #[test]
    fn every_failure_says_passed_false() {
        let mut failing = 0;
        for policy in specs::POLICIES {
            let Some(out) = failing_output(policy, &json!({}), today()) else {
                continue;
            };
            failing += 1;
            assert_eq!(out["passed"], false, "{policy}: {out}");
        }
        assert!(
            failing >= 10,
            "most policies can fail in the sandbox: {failing}"
        );
    }

    #[test]
    fn a_failed_face_match_scores_below_its_threshold() {
        for level in ["standard", "strict", "very_strict"] {
            let config = json!({"security_level": level});
            let out = failing_output("face_match", &config, today()).unwrap();
            assert!(
                out["face_match_score"].as_f64() < out["threshold"].as_f64(),
                "{out}"
            );
        }
    }

    #[test]
    fn a_blocked_risk_is_critical_and_says_why() {
        let out = failing_output("risk_assessment", &json!({}), today()).unwrap();
        assert_eq!(out["blocked"], true);
        assert_eq!(out["risk_level"], "critical");
        assert_eq!(out["signals"][0]["name"], "camera_injection_detected");
    }

    #[test]
    fn what_the_sandbox_document_settles_cannot_fail() {
        for policy in [
            "age_verification",
            "id_document_filter",
            "document_expiration",
        ] {
            assert_eq!(
                failing_output(policy, &json!({}), today()),
                None,
                "{policy}"
            );
        }
        // Nor can a check whose configuration is wrong: it stays an error.
        assert_eq!(
            failing_output("face_match", &json!({"security_level": "lax"}), today()),
            None
        );
    }
}
