//! An in-process fixed-window rate limiter (one window per minute per bucket).
//!
//! Limits are per process: with N replicas a key gets up to N × limit. A shared store (Redis,
//! Postgres) can replace it behind the same port when a deployment needs a global limit.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use verifa_ports::rate_limit::{RateDecision, RateLimiter};

/// Buckets idle for this many windows are dropped, bounding memory.
const PRUNE_EVERY: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

/// Fixed-window counter per bucket.
#[derive(Debug)]
pub struct FixedWindowLimiter {
    window_secs: i64,
    buckets: Mutex<HashMap<String, Window>>,
}

impl FixedWindowLimiter {
    /// A limiter with windows of `window_secs` seconds (60 in production).
    pub fn new(window_secs: u64) -> Self {
        Self {
            window_secs: window_secs.max(1) as i64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn decide(&self, bucket: &str, limit: u32, now: DateTime<Utc>, count: bool) -> RateDecision {
        let ts = now.timestamp();
        let start = ts - ts.rem_euclid(self.window_secs);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_EVERY {
            buckets.retain(|_, w| w.start >= start);
        }
        let w = buckets
            .entry(bucket.to_owned())
            .or_insert(Window { start, count: 0 });
        if w.start != start {
            *w = Window { start, count: 0 };
        }
        let allowed = w.count < limit;
        if count && allowed {
            w.count += 1;
        }
        let reset_at = DateTime::<Utc>::from_timestamp(start + self.window_secs, 0)
            .unwrap_or(now + Duration::seconds(self.window_secs));
        RateDecision {
            allowed: !count || allowed,
            limit,
            remaining: limit.saturating_sub(w.count),
            reset_at,
            retry_after_secs: (start + self.window_secs - ts).max(1) as u64,
        }
    }
}

impl RateLimiter for FixedWindowLimiter {
    fn hit(&self, bucket: &str, limit: u32, now: DateTime<Utc>) -> RateDecision {
        self.decide(bucket, limit, now, true)
    }

    fn peek(&self, bucket: &str, limit: u32, now: DateTime<Utc>) -> RateDecision {
        self.decide(bucket, limit, now, false)
    }

    fn window_secs(&self) -> u64 {
        self.window_secs as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn counts_until_the_limit_then_refuses_until_the_window_resets() {
        let l = FixedWindowLimiter::new(60);
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 10).unwrap();
        for i in 0..3 {
            let d = l.hit("k", 3, t);
            assert!(d.allowed);
            assert_eq!(d.remaining, 2 - i);
        }
        let refused = l.hit("k", 3, t);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 50);
        assert_eq!(refused.reset_at.timestamp(), t.timestamp() + 50);
        assert!(l.hit("other", 3, t).allowed);
        assert!(l.hit("k", 3, t + Duration::seconds(50)).allowed);
        assert_eq!(l.peek("k", 3, t + Duration::seconds(50)).remaining, 2);
    }
}
