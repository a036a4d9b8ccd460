//! [`DispatcherStats`]: what a dispatcher did and where its time went, counted as it works.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters of one [`Dispatcher`](super::Dispatcher).
#[derive(Debug, Default)]
pub struct DispatcherStats {
    steps: AtomicU64,
    idle_steps: AtomicU64,
    fanned_out: AtomicU64,
    attempts: AtomicU64,
    delivered: AtomicU64,
    claims: AtomicU64,
    attempt_batches: AtomicU64,
    fan_out_commits: AtomicU64,
    store_nanos: AtomicU64,
    send_nanos: AtomicU64,
}

/// A reading of [`DispatcherStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatcherStatsSnapshot {
    /// Loop steps (fan-out plus delivery).
    pub steps: u64,
    /// Steps that found nothing to do (followed by the poll interval).
    pub idle_steps: u64,
    /// Deliveries created by fan-out.
    pub fanned_out: u64,
    /// Delivery attempts made.
    pub attempts: u64,
    /// Attempts that were delivered (2xx).
    pub delivered: u64,
    /// Claim statements (one UPDATE each, also when nothing was due).
    pub claims: u64,
    /// Transactions recording a batch of attempts.
    pub attempt_batches: u64,
    /// Fan-out commits tried (deliveries plus the cursor's compare-and-set).
    pub fan_out_commits: u64,
    /// Time in store calls (fan-out, claims, recording attempts).
    pub store_nanos: u64,
    /// Time sending batches (signing and HTTP, concurrently within a batch).
    pub send_nanos: u64,
}

impl DispatcherStatsSnapshot {
    /// Field-wise sum (several dispatchers).
    pub fn plus(self, o: Self) -> Self {
        Self {
            steps: self.steps + o.steps,
            idle_steps: self.idle_steps + o.idle_steps,
            fanned_out: self.fanned_out + o.fanned_out,
            attempts: self.attempts + o.attempts,
            delivered: self.delivered + o.delivered,
            claims: self.claims + o.claims,
            attempt_batches: self.attempt_batches + o.attempt_batches,
            fan_out_commits: self.fan_out_commits + o.fan_out_commits,
            store_nanos: self.store_nanos + o.store_nanos,
            send_nanos: self.send_nanos + o.send_nanos,
        }
    }

    /// Field-wise difference from an earlier reading.
    pub fn since(self, e: Self) -> Self {
        Self {
            steps: self.steps.saturating_sub(e.steps),
            idle_steps: self.idle_steps.saturating_sub(e.idle_steps),
            fanned_out: self.fanned_out.saturating_sub(e.fanned_out),
            attempts: self.attempts.saturating_sub(e.attempts),
            delivered: self.delivered.saturating_sub(e.delivered),
            claims: self.claims.saturating_sub(e.claims),
            attempt_batches: self.attempt_batches.saturating_sub(e.attempt_batches),
            fan_out_commits: self.fan_out_commits.saturating_sub(e.fan_out_commits),
            store_nanos: self.store_nanos.saturating_sub(e.store_nanos),
            send_nanos: self.send_nanos.saturating_sub(e.send_nanos),
        }
    }
}

fn since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl DispatcherStats {
    pub(super) fn step(&self, idle: bool) {
        self.steps.fetch_add(1, Ordering::Relaxed);
        if idle {
            self.idle_steps.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn fanned_out(&self, n: usize) {
        self.fanned_out
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(super) fn attempted(&self, attempts: usize, delivered: usize) {
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        self.attempts.fetch_add(n(attempts), Ordering::Relaxed);
        self.delivered.fetch_add(n(delivered), Ordering::Relaxed);
    }

    pub(super) fn claimed(&self) {
        self.claims.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn recorded_batch(&self) {
        self.attempt_batches.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn committed_fan_out(&self) {
        self.fan_out_commits.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn store(&self, started: Instant) {
        self.store_nanos
            .fetch_add(since(started), Ordering::Relaxed);
    }

    pub(super) fn send(&self, started: Instant) {
        self.send_nanos.fetch_add(since(started), Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> DispatcherStatsSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        DispatcherStatsSnapshot {
            steps: l(&self.steps),
            idle_steps: l(&self.idle_steps),
            fanned_out: l(&self.fanned_out),
            attempts: l(&self.attempts),
            delivered: l(&self.delivered),
            claims: l(&self.claims),
            attempt_batches: l(&self.attempt_batches),
            fan_out_commits: l(&self.fan_out_commits),
            store_nanos: l(&self.store_nanos),
            send_nanos: l(&self.send_nanos),
        }
    }
}
