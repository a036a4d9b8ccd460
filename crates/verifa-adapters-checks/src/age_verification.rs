//! `age_verification`: the age on `request.today` from `extracted_data.date_of_birth`
//! (`YYYY-MM-DD`) must be at least `minimum_age` (default 18, 0..=150).
//!
//! Birthdays count from the day itself (18 on the 18th birthday); a 29 February birthday is
//! reached on 1 March in common years. Missing date of birth → `skipped`; an unparseable one →
//! `error`; a date of birth after today → `failed` (the subject cannot be shown to be old enough;
//! `error` explains the inconsistency).

use async_trait::async_trait;
use serde_json::json;
use verifa_checks_core::age::{AgeCheck, AgeError};
use verifa_domain::workflow::{CheckStatus, PolicySpec};
use verifa_ports::checks::{CheckExecutor, CheckOutcome, CheckRequest};

use crate::context::{bad_config, config_u32, extracted, parse_date, text};
use crate::specs;

/// Default `minimum_age`.
pub const DEFAULT_MINIMUM_AGE: u32 = 18;

/// The `age_verification` executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct AgeVerification;

/// Evaluates the rule for a date of birth already parsed.
pub fn evaluate(
    dob: chrono::NaiveDate,
    today: chrono::NaiveDate,
    minimum_age: u32,
) -> CheckOutcome {
    match AgeCheck::evaluate(dob, today, minimum_age) {
        Ok(c) => CheckOutcome::decided(
            c.passed,
            json!({
                "age": c.age,
                "minimum_age": c.minimum_age,
                "age_check_passed": c.passed,
                "extracted_age": c.age,
                "passed": c.passed,
            }),
        ),
        Err(AgeError::BornInFuture { .. }) => CheckOutcome {
            status: CheckStatus::Failed,
            output: json!({"minimum_age": minimum_age, "age_check_passed": false, "passed": false}),
            error: Some("date of birth is after today".to_owned()),
        },
    }
}

#[async_trait]
impl CheckExecutor for AgeVerification {
    fn spec(&self) -> PolicySpec {
        specs::age_verification()
    }

    async fn execute(&self, request: &CheckRequest) -> CheckOutcome {
        let minimum_age =
            match config_u32(&request.config, "minimum_age", DEFAULT_MINIMUM_AGE, 0, 150) {
                Ok(v) => v,
                Err(e) => return bad_config(e),
            };
        let Some(raw) = text(extracted(request), "date_of_birth") else {
            return CheckOutcome::skipped("no date_of_birth in extracted_data");
        };
        let Some(dob) = parse_date(&raw) else {
            return CheckOutcome::error("extracted_data.date_of_birth is not a YYYY-MM-DD date");
        };
        evaluate(dob, request.today, minimum_age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::test_support::{d, with_extracted};

    async fn run(dob: &str, today: chrono::NaiveDate, min: Option<u32>) -> CheckOutcome {
        let config = min.map_or(json!({}), |m| json!({"minimum_age": m}));
        let mut req = with_extracted("age_verification", config, json!({"date_of_birth": dob}));
        req.today = today;
        AgeVerification.execute(&req).await
    }

    #[tokio::test]
    async fn boundary_is_the_birthday_itself() {
        let on = run("2008-06-15", d(2026, 6, 15), None).await;
        assert_eq!(on.status, CheckStatus::Passed);
        assert_eq!(on.output["age"], 18);
        assert_eq!(on.output["minimum_age"], 18);
        assert_eq!(on.output["passed"], true);
        let before = run("2008-06-15", d(2026, 6, 14), None).await;
        assert_eq!(before.status, CheckStatus::Failed);
        assert_eq!(before.output["age"], 17);
        assert_eq!(before.output["passed"], false);
        assert_eq!(
            run("2005-06-16", d(2026, 6, 15), Some(21)).await.status,
            CheckStatus::Failed
        );
        assert_eq!(
            run("2005-06-15", d(2026, 6, 15), Some(21)).await.status,
            CheckStatus::Passed
        );
    }

    #[tokio::test]
    async fn leap_day_birthdays() {
        // Born 29 Feb 2008: 18 on 1 March 2026 (no 29 Feb that year), not on 28 Feb.
        assert_eq!(
            run("2008-02-29", d(2026, 2, 28), None).await.status,
            CheckStatus::Failed
        );
        assert_eq!(
            run("2008-02-29", d(2026, 3, 1), None).await.status,
            CheckStatus::Passed
        );
        // In a leap year the birthday is 29 Feb itself.
        let r = run("2004-02-29", d(2024, 2, 29), Some(20)).await;
        assert_eq!(
            (r.status, r.output["age"].clone()),
            (CheckStatus::Passed, json!(20))
        );
        assert_eq!(
            run("2004-02-29", d(2024, 2, 28), Some(20)).await.status,
            CheckStatus::Failed
        );
    }

    #[tokio::test]
    async fn missing_bad_and_future_dob() {
        let req = with_extracted("age_verification", json!({}), json!({}));
        let r = AgeVerification.execute(&req).await;
        assert_eq!(r.status, CheckStatus::Skipped);
        assert!(r.error.is_some());
        assert_eq!(
            run("15/06/2008", d(2026, 6, 15), None).await.status,
            CheckStatus::Error
        );
        assert_eq!(
            run("2008-02-30", d(2026, 6, 15), None).await.status,
            CheckStatus::Error
        );
        let future = run("2030-01-01", d(2026, 6, 15), Some(0)).await;
        assert_eq!(future.status, CheckStatus::Failed);
        assert_eq!(future.output["passed"], false);
        assert!(future.error.is_some());
        let bad = with_extracted(
            "age_verification",
            json!({"minimum_age": 151}),
            json!({"date_of_birth": "2000-01-01"}),
        );
        assert_eq!(
            AgeVerification.execute(&bad).await.status,
            CheckStatus::Error
        );
    }
}
