//! [`WorkerStats`]: what a run worker did and where its time went, counted as it works (cheap
//! atomics), for operators' metrics and benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters of one [`RunWorker`](super::RunWorker).
#[derive(Debug, Default)]
pub struct WorkerStats {
    claims: AtomicU64,
    idle_claims: AtomicU64,
    step_commits: AtomicU64,
    parks: AtomicU64,
    decisions: AtomicU64,
    lost_leases: AtomicU64,
    claim_nanos: AtomicU64,
    commit_nanos: AtomicU64,
    read_nanos: AtomicU64,
    check_nanos: AtomicU64,
}

/// A reading of [`WorkerStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStatsSnapshot {
    /// Claims that got a run.
    pub claims: u64,
    /// Claims that found nothing due.
    pub idle_claims: u64,
    /// Commits of a step (attempts or a session change).
    pub step_commits: u64,
    /// Commits that only gave a lease back.
    pub parks: u64,
    /// Runs this worker completed.
    pub decisions: u64,
    /// Runs whose lease another worker took over.
    pub lost_leases: u64,
    /// Time in claims.
    pub claim_nanos: u64,
    /// Time in commits.
    pub commit_nanos: u64,
    /// Time reading what checks and session changes need.
    pub read_nanos: u64,
    /// Time in check executors.
    pub check_nanos: u64,
}

impl WorkerStatsSnapshot {
    /// Field-wise sum (several workers).
    pub fn plus(self, o: Self) -> Self {
        Self {
            claims: self.claims + o.claims,
            idle_claims: self.idle_claims + o.idle_claims,
            step_commits: self.step_commits + o.step_commits,
            parks: self.parks + o.parks,
            decisions: self.decisions + o.decisions,
            lost_leases: self.lost_leases + o.lost_leases,
            claim_nanos: self.claim_nanos + o.claim_nanos,
            commit_nanos: self.commit_nanos + o.commit_nanos,
            read_nanos: self.read_nanos + o.read_nanos,
            check_nanos: self.check_nanos + o.check_nanos,
        }
    }

    /// Field-wise difference from an earlier reading.
    pub fn since(self, earlier: Self) -> Self {
        Self {
            claims: self.claims.saturating_sub(earlier.claims),
            idle_claims: self.idle_claims.saturating_sub(earlier.idle_claims),
            step_commits: self.step_commits.saturating_sub(earlier.step_commits),
            parks: self.parks.saturating_sub(earlier.parks),
            decisions: self.decisions.saturating_sub(earlier.decisions),
            lost_leases: self.lost_leases.saturating_sub(earlier.lost_leases),
            claim_nanos: self.claim_nanos.saturating_sub(earlier.claim_nanos),
            commit_nanos: self.commit_nanos.saturating_sub(earlier.commit_nanos),
            read_nanos: self.read_nanos.saturating_sub(earlier.read_nanos),
            check_nanos: self.check_nanos.saturating_sub(earlier.check_nanos),
        }
    }
}

/// What a timed section counts as.
#[derive(Debug, Clone, Copy)]
pub(super) enum Timed {
    Claim { got_one: bool },
    Commit { park: bool },
    Read,
    Check,
}

fn elapsed(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl WorkerStats {
    pub(super) fn record(&self, what: Timed, started: Instant) {
        let nanos = elapsed(started);
        let (count, time) = match what {
            Timed::Claim { got_one: true } => (Some(&self.claims), &self.claim_nanos),
            Timed::Claim { got_one: false } => (Some(&self.idle_claims), &self.claim_nanos),
            Timed::Commit { park: false } => (Some(&self.step_commits), &self.commit_nanos),
            Timed::Commit { park: true } => (Some(&self.parks), &self.commit_nanos),
            Timed::Read => (None, &self.read_nanos),
            Timed::Check => (None, &self.check_nanos),
        };
        if let Some(c) = count {
            c.fetch_add(1, Ordering::Relaxed);
        }
        time.fetch_add(nanos, Ordering::Relaxed);
    }

    pub(super) fn decided(&self) {
        self.decisions.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn lost_lease(&self) {
        self.lost_leases.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> WorkerStatsSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        WorkerStatsSnapshot {
            claims: l(&self.claims),
            idle_claims: l(&self.idle_claims),
            step_commits: l(&self.step_commits),
            parks: l(&self.parks),
            decisions: l(&self.decisions),
            lost_leases: l(&self.lost_leases),
            claim_nanos: l(&self.claim_nanos),
            commit_nanos: l(&self.commit_nanos),
            read_nanos: l(&self.read_nanos),
            check_nanos: l(&self.check_nanos),
        }
    }
}
