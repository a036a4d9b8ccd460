//! `auto_approve`: passes when no earlier check in `context.checks` failed, errored or is still
//! awaiting a retry (`skipped` and `passed` are fine), the risk assessment (if any) is not
//! blocked, and its `risk_level` is at most `max_risk_level` (`low` | `medium`, default
//! `medium`; `high` and `critical` never pass). `reasons` lists why it did not pass.

use async_trait::async_trait;
use serde_json::{Value, json};
use verifa_domain::workflow::PolicySpec;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};

use crate::context::{bad_config, checks, config_enum};
use crate::specs;

/// The `auto_approve` executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct AutoApprove;

fn rank(level: &str) -> u8 {
    match level {
        "low" => 0,
        "medium" => 1,
        "high" => 2,
        _ => 3,
    }
}

#[async_trait]
impl CheckExecutor for AutoApprove {
    fn spec(&self) -> PolicySpec {
        specs::auto_approve()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        let max = match config_enum(
            &request.config,
            "max_risk_level",
            "medium",
            &["low", "medium"],
        ) {
            Ok(v) => v,
            Err(e) => return bad_config(e),
        };
        let mut reasons = Vec::new();
        let prior = checks(request);
        for (policy, result) in prior.into_iter().flatten() {
            if policy == "auto_approve" {
                continue;
            }
            if let Some(s @ ("failed" | "error" | "requires_retry" | "pending")) =
                result.get("status").and_then(Value::as_str)
            {
                reasons.push(format!("check '{policy}' is {s}"));
            }
        }
        if let Some(risk) = prior.and_then(|c| c.get("risk_assessment")) {
            if risk.get("blocked") == Some(&Value::Bool(true)) {
                reasons.push("risk assessment blocked the session".to_owned());
            }
            if let Some(level) = risk.get("risk_level").and_then(Value::as_str)
                && rank(level) > rank(max)
            {
                reasons.push(format!("risk level '{level}' exceeds '{max}'"));
            }
        }
        let passed = reasons.is_empty();
        CheckOutcome::decided(
            passed,
            json!({"passed": passed, "reasons": reasons, "max_risk_level": max}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::request;
    use verifa_domain::workflow::CheckStatus;

    async fn run(config: Value, checks: Value) -> CheckOutcome {
        AutoApprove
            .execute(&request("auto_approve", config, json!({"checks": checks})))
            .await
    }

    #[tokio::test]
    async fn approves_clean_runs() {
        let r = run(
            json!({}),
            json!({
                "document_ocr": {"status": "passed"},
                "identity_crossref": {"status": "skipped"},
                "risk_assessment": {"status": "passed", "risk_level": "medium", "blocked": false},
            }),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Passed);
        assert_eq!(r.output["reasons"], json!([]));
        assert_eq!(
            AutoApprove
                .execute(&request("auto_approve", json!({}), json!({})))
                .await
                .status,
            CheckStatus::Passed
        );
    }

    #[tokio::test]
    async fn refuses_failures_and_risk() {
        let r = run(
            json!({}),
            json!({"face_match": {"status": "failed"}, "aml_screening": {"status": "error"}}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Failed);
        assert_eq!(
            r.output["reasons"],
            json!([
                "check 'face_match' is failed",
                "check 'aml_screening' is error"
            ])
        );
        let r = run(
            json!({}),
            json!({"risk_assessment": {"status": "passed", "risk_level": "high"}}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Failed);
        let r = run(
            json!({"max_risk_level": "low"}),
            json!({"risk_assessment": {"status": "passed", "risk_level": "medium"}}),
        )
        .await;
        assert_eq!(r.status, CheckStatus::Failed);
        assert_eq!(
            r.output["reasons"],
            json!(["risk level 'medium' exceeds 'low'"])
        );
        let r = run(json!({}), json!({"risk_assessment": {"status": "failed", "risk_level": "critical", "blocked": true}})).await;
        assert_eq!(r.output["reasons"].as_array().unwrap().len(), 3);
        assert_eq!(
            run(json!({"max_risk_level": "high"}), json!({}))
                .await
                .status,
            CheckStatus::Error
        );
    }
}
