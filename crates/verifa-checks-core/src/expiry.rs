//! The `document_expiration` rule with `grace_days`.
//!
//! Conventions: a document is valid through its expiry date, so "expires today" passes (the date
//! printed is the last day of validity, as ICAO 9303 and most issuers define it). It is `expired`
//! from the day after. It still passes while `today <= expiry + grace_days`; `within_grace`
//! flags that case so callers can surface it.

use chrono::{Days, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExpiryCheck {
    pub expiration_date: NaiveDate,
    /// Signed days from today to the expiry date (0 = expires today, negative = already past).
    pub days_until_expiry: i64,
    /// `expiration_date < today`.
    pub expired: bool,
    /// Expired, but still accepted thanks to `grace_days`.
    pub within_grace: bool,
    pub passed: bool,
}

/// Evaluates a document's expiry against `today`.
pub fn evaluate(expiration_date: NaiveDate, today: NaiveDate, grace_days: u32) -> ExpiryCheck {
    let expired = expiration_date < today;
    // Past the calendar's end nothing can be later, so an overflowing grace period accepts.
    let accepted_until = expiration_date.checked_add_days(Days::new(u64::from(grace_days)));
    let passed = accepted_until.is_none_or(|last| today <= last);
    ExpiryCheck {
        expiration_date,
        days_until_expiry: (expiration_date - today).num_days(),
        expired,
        within_grace: expired && passed,
        passed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn expires_today_is_valid() {
        let c = evaluate(d(2026, 3, 10), d(2026, 3, 10), 0);
        assert!(c.passed && !c.expired && !c.within_grace);
        assert_eq!(c.days_until_expiry, 0);
    }

    #[test]
    fn expired_yesterday_fails_without_grace() {
        let c = evaluate(d(2026, 3, 9), d(2026, 3, 10), 0);
        assert!(c.expired && !c.passed && !c.within_grace);
        assert_eq!(c.days_until_expiry, -1);
    }

    #[test]
    fn future_expiry_passes() {
        let c = evaluate(d(2030, 1, 1), d(2026, 3, 10), 0);
        assert!(c.passed && !c.expired);
        assert!(c.days_until_expiry > 0);
    }

    #[test]
    fn grace_days_boundary() {
        let exp = d(2026, 2, 28);
        let last_grace_day = evaluate(exp, d(2026, 3, 30), 30);
        assert!(last_grace_day.passed && last_grace_day.expired && last_grace_day.within_grace);
        let after = evaluate(exp, d(2026, 3, 31), 30);
        assert!(!after.passed && after.expired && !after.within_grace);
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let c = evaluate(NaiveDate::MAX, NaiveDate::MIN, u32::MAX);
        assert!(c.passed);
        let c = evaluate(NaiveDate::MIN, NaiveDate::MAX, 0);
        assert!(!c.passed);
        // u32::MAX days (~11.7 million years) runs past the calendar's end: accepted.
        assert!(evaluate(NaiveDate::MIN, NaiveDate::MAX, u32::MAX).passed);
    }
}
