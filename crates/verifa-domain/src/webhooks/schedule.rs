//! Delivery timing and outcome rules (CONTRACT §5, reference §13.4):
//!
//! - each attempt has a 30 s timeout; only a 2xx response is a success. A 3xx is a failure
//!   (redirects are never followed), as is every other status, a timeout or a transport error;
//! - after the first attempt fails, up to 5 retries follow at ~30 s, 2 min, 8 min, 32 min and
//!   2 h after the previous attempt (×4 each time), each jittered by ±10 %;
//! - when the 5th retry fails the delivery is `failed`;
//! - 10 consecutive `failed` deliveries disable the endpoint (circuit breaker).
//!
//! Attempts are numbered from 1 (the first delivery attempt); attempt `n + 1` is retry `n`.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use std::time::Duration;

/// Timeout of one delivery attempt.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Base delays (seconds) before retries 1..=5.
pub const RETRY_DELAYS_SECS: [i64; 5] = [30, 120, 480, 1_920, 7_200];
/// Number of retries after the first attempt.
pub const MAX_RETRIES: u32 = 5;
/// Total attempts of one delivery (first attempt + retries).
pub const MAX_ATTEMPTS: u32 = MAX_RETRIES + 1;
/// Jitter amplitude: a jitter of ±1 moves a delay by ±10 %.
pub const JITTER_FRACTION: f64 = 0.10;
/// Consecutive failed deliveries that disable an endpoint.
pub const CIRCUIT_BREAKER_THRESHOLD: u32 = 10;

/// The delay before retry `retry_number` (1..=5), jittered; `None` outside that range.
///
/// `jitter` is a uniform draw in `[-1, 1]` from the caller (clamped; NaN counts as 0), mapped
/// to `±JITTER_FRACTION` of the base delay and rounded to whole milliseconds.
pub fn retry_delay(retry_number: u32, jitter: f64) -> Option<ChronoDuration> {
    let index = usize::try_from(retry_number.checked_sub(1)?).ok()?;
    let base_secs = *RETRY_DELAYS_SECS.get(index)?;
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(-1.0, 1.0)
    };
    let factor = 1.0 + JITTER_FRACTION * jitter;
    // At most 7 200 000 ms × 1.1: far inside i64 and f64's exact integer range.
    let millis = (base_secs as f64 * 1_000.0 * factor).round() as i64;
    Some(ChronoDuration::milliseconds(millis))
}

/// When to make the next attempt after attempt `attempt_number` (1-based) failed at
/// `last_attempt_at`; `None` once the 5th retry (attempt 6) has failed: the delivery is failed.
/// An `attempt_number` of 0 is treated as 1.
pub fn next_attempt_at(
    attempt_number: u32,
    last_attempt_at: DateTime<Utc>,
    jitter: f64,
) -> Option<DateTime<Utc>> {
    let delay = retry_delay(attempt_number.max(1), jitter)?;
    last_attempt_at.checked_add_signed(delay)
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx response.
    Success,
    /// A 3xx response (the redirect was not followed).
    Redirect(u16),
    /// Any other status (1xx, 4xx, 5xx, or out of range).
    HttpError(u16),
    /// No response within the timeout.
    Timeout,
    /// No response: refused by the SSRF guard, DNS failure, connection or TLS error.
    TransportError,
}

impl AttemptOutcome {
    /// Whether the attempt delivered the event.
    pub fn is_success(self) -> bool {
        self == AttemptOutcome::Success
    }
}

/// Classifies an HTTP status code.
pub fn classify_status(status: u16) -> AttemptOutcome {
    match status {
        200..=299 => AttemptOutcome::Success,
        300..=399 => AttemptOutcome::Redirect(status),
        other => AttemptOutcome::HttpError(other),
    }
}

/// Classifies a transport result: the status if one was received, else timeout or error.
pub fn classify(status: Option<u16>, timed_out: bool) -> AttemptOutcome {
    match status {
        Some(s) => classify_status(s),
        None if timed_out => AttemptOutcome::Timeout,
        None => AttemptOutcome::TransportError,
    }
}

/// What to do with a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryDecision {
    /// Delivered: stop.
    Delivered,
    /// Failed attempt; try again at this time.
    RetryAt(DateTime<Utc>),
    /// Failed attempt and no retry left: the delivery is `failed`.
    Failed,
}

/// The decision after attempt `attempt_number` ended with `outcome` at `attempted_at`.
pub fn decide(
    outcome: AttemptOutcome,
    attempt_number: u32,
    attempted_at: DateTime<Utc>,
    jitter: f64,
) -> DeliveryDecision {
    if outcome.is_success() {
        return DeliveryDecision::Delivered;
    }
    match next_attempt_at(attempt_number, attempted_at, jitter) {
        Some(at) => DeliveryDecision::RetryAt(at),
        None => DeliveryDecision::Failed,
    }
}

/// The endpoint's consecutive-failed-deliveries counter after a delivery reached a final state
/// (delivered resets it; failed increments it).
pub fn consecutive_failures_after(previous: u32, delivered: bool) -> u32 {
    if delivered {
        0
    } else {
        previous.saturating_add(1)
    }
}

/// Whether an endpoint with this many consecutive failed deliveries must be disabled.
pub fn should_disable_endpoint(consecutive_failed_deliveries: u32) -> bool {
    consecutive_failed_deliveries >= CIRCUIT_BREAKER_THRESHOLD
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn schedule_without_jitter_is_exact() {
        let expected = [30, 120, 480, 1_920, 7_200];
        for (i, secs) in expected.iter().enumerate() {
            let attempt = u32::try_from(i).unwrap() + 1;
            assert_eq!(
                next_attempt_at(attempt, t0(), 0.0),
                Some(t0() + ChronoDuration::seconds(*secs)),
                "attempt {attempt}"
            );
        }
        assert_eq!(next_attempt_at(6, t0(), 0.0), None);
        assert_eq!(next_attempt_at(7, t0(), 0.0), None);
        assert_eq!(next_attempt_at(u32::MAX, t0(), 0.0), None);
        assert_eq!(next_attempt_at(0, t0(), 0.0), next_attempt_at(1, t0(), 0.0));
    }

    #[test]
    fn jitter_is_bounded_to_ten_percent() {
        assert_eq!(
            retry_delay(1, 1.0),
            Some(ChronoDuration::milliseconds(33_000))
        );
        assert_eq!(
            retry_delay(1, -1.0),
            Some(ChronoDuration::milliseconds(27_000))
        );
        assert_eq!(
            retry_delay(5, 0.5),
            Some(ChronoDuration::milliseconds(7_560_000))
        );
        assert_eq!(retry_delay(2, 5.0), retry_delay(2, 1.0));
        assert_eq!(retry_delay(2, f64::NEG_INFINITY), retry_delay(2, -1.0));
        assert_eq!(retry_delay(2, f64::NAN), retry_delay(2, 0.0));
        assert_eq!(retry_delay(0, 0.0), None);
        assert_eq!(retry_delay(6, 0.0), None);
    }

    #[test]
    fn classification() {
        assert_eq!(classify(Some(200), false), AttemptOutcome::Success);
        assert_eq!(classify(Some(204), false), AttemptOutcome::Success);
        assert_eq!(classify(Some(299), false), AttemptOutcome::Success);
        assert_eq!(classify(Some(301), false), AttemptOutcome::Redirect(301));
        assert_eq!(classify(Some(308), false), AttemptOutcome::Redirect(308));
        assert_eq!(classify(Some(100), false), AttemptOutcome::HttpError(100));
        assert_eq!(classify(Some(410), false), AttemptOutcome::HttpError(410));
        assert_eq!(classify(Some(500), false), AttemptOutcome::HttpError(500));
        assert_eq!(classify(None, true), AttemptOutcome::Timeout);
        assert_eq!(classify(None, false), AttemptOutcome::TransportError);
        assert!(!AttemptOutcome::Redirect(302).is_success());
    }

    #[test]
    fn decisions_walk_the_whole_schedule() {
        assert_eq!(
            decide(AttemptOutcome::Success, 6, t0(), 0.0),
            DeliveryDecision::Delivered
        );
        let mut at = t0();
        for attempt in 1..=5 {
            match decide(AttemptOutcome::Timeout, attempt, at, 0.0) {
                DeliveryDecision::RetryAt(next) => at = next,
                other => panic!("attempt {attempt}: {other:?}"),
            }
        }
        // 30 s + 2 min + 8 min + 32 min + 2 h.
        assert_eq!(at - t0(), ChronoDuration::seconds(9_750));
        assert_eq!(
            decide(AttemptOutcome::HttpError(500), 6, at, 0.0),
            DeliveryDecision::Failed
        );
    }

    #[test]
    fn circuit_breaker() {
        let mut n = 0;
        for _ in 0..9 {
            n = consecutive_failures_after(n, false);
            assert!(!should_disable_endpoint(n));
        }
        assert_eq!(consecutive_failures_after(n, true), 0);
        n = consecutive_failures_after(n, false);
        assert_eq!(n, 10);
        assert!(should_disable_endpoint(n));
        assert_eq!(consecutive_failures_after(u32::MAX, false), u32::MAX);
    }
}
