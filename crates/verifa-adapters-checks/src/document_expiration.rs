//! `document_expiration`: rejects documents whose `extracted_data.document_expiration_date`
//! lies before `request.today`, allowing `grace_days` (default 0, 0..=3650) after expiry. A
//! document expiring today is valid. Missing date → `skipped`; unparseable → `error`.

use async_trait::async_trait;
use serde_json::json;
use verifa_checks_core::expiry;
use verifa_domain::workflow::PolicySpec;
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};

use crate::context::{bad_config, config_u32, extracted, parse_date, text};
use crate::specs;

/// The `document_expiration` executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocumentExpiration;

#[async_trait]
impl CheckExecutor for DocumentExpiration {
    fn spec(&self) -> PolicySpec {
        specs::document_expiration()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        let grace_days = match config_u32(&request.config, "grace_days", 0, 0, 3650) {
            Ok(v) => v,
            Err(e) => return bad_config(e),
        };
        let data = extracted(request);
        let Some(raw) = ["document_expiration_date", "expiration_date", "expiry_date"]
            .iter()
            .find_map(|k| text(data, k))
        else {
            return CheckOutcome::skipped("no document_expiration_date in extracted_data");
        };
        let Some(date) = parse_date(&raw) else {
            return CheckOutcome::error(
                "extracted_data.document_expiration_date is not a YYYY-MM-DD date",
            );
        };
        let c = expiry::evaluate(date, request.today, grace_days);
        CheckOutcome::decided(
            c.passed,
            json!({
                "expiration_date": c.expiration_date.format("%Y-%m-%d").to_string(),
                "days_until_expiry": c.days_until_expiry,
                "expired": c.expired,
                "within_grace": c.within_grace,
                "grace_days": grace_days,
                "passed": c.passed,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::with_extracted;
    use verifa_domain::workflow::CheckStatus;

    async fn run(date: &str, config: serde_json::Value) -> CheckOutcome {
        // today = 2026-06-15
        let req = with_extracted(
            "document_expiration",
            config,
            json!({"document_expiration_date": date}),
        );
        DocumentExpiration.execute(&req).await
    }

    #[tokio::test]
    async fn expires_today_passes_yesterday_fails() {
        let today = run("2026-06-15", json!({})).await;
        assert_eq!(today.status, CheckStatus::Passed);
        assert_eq!(today.output["expired"], false);
        assert_eq!(today.output["days_until_expiry"], 0);
        let y = run("2026-06-14", json!({})).await;
        assert_eq!(y.status, CheckStatus::Failed);
        assert_eq!(y.output["expired"], true);
        assert_eq!(y.output["passed"], false);
    }

    #[tokio::test]
    async fn grace_days() {
        let r = run("2026-06-05", json!({"grace_days": 10})).await;
        assert_eq!(r.status, CheckStatus::Passed);
        assert_eq!(r.output["within_grace"], true);
        assert_eq!(
            run("2026-06-04", json!({"grace_days": 10})).await.status,
            CheckStatus::Failed
        );
    }

    #[tokio::test]
    async fn missing_and_bad() {
        let req = with_extracted("document_expiration", json!({}), json!({"first_name": "A"}));
        assert_eq!(
            DocumentExpiration.execute(&req).await.status,
            CheckStatus::Skipped
        );
        assert_eq!(run("soon", json!({})).await.status, CheckStatus::Error);
        assert_eq!(
            run("2030-01-01", json!({"grace_days": "x"})).await.status,
            CheckStatus::Error
        );
    }
}
