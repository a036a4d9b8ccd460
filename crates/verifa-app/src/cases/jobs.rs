//! The case sweeps a server runs every minute (CONTRACT §8.2, §8.5): claims idle for 30 minutes
//! go back to the queue, and a case turning red gets `sla_breached_at` and fires
//! `case.sla_breached` once. Both read their work from the store (the claim's last activity,
//! the due time and the breach mark), so a restart or a second replica loses nothing and
//! repeats nothing: each write is fenced on the case's revision, and a lost race is skipped
//! (the winner did the work).

use super::CaseService;
use super::actions::events;
use crate::actor::system_audit;
use crate::error::AppError;
use verifa_domain::case::CaseEvent;
use verifa_domain::case::lifecycle::IDLE_CLAIM;
use verifa_ports::RepoError;

/// Cases one sweep handles at most (the next minute takes the rest).
pub const SWEEP_BATCH: u64 = 500;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Idle claims released.
    pub released: usize,
    /// Cases marked breached.
    pub breached: usize,
}

fn lost_race(outcome: Result<(), RepoError>) -> Result<bool, AppError> {
    match outcome {
        Ok(()) => Ok(true),
        Err(RepoError::Conflict(_) | RepoError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl CaseService {
    /// Releases idle claims and marks SLA breaches, as of now.
    pub async fn sweep(&self) -> Result<SweepReport, AppError> {
        let now = self.clock.now();
        let mut report = SweepReport::default();
        for mut case in self
            .store
            .idle_claims(now - IDLE_CLAIM, SWEEP_BATCH)
            .await?
        {
            if !case.release_if_idle(now) {
                continue;
            }
            case.updated_at = now;
            let audit = system_audit(case.tenant.clone(), "case.released", "case", &case.id, now)
                .with_changes(["assigned_to", "status"])
                .with_metadata("reason", "idle");
            if lost_race(self.store.update(&case, None, &[], &[audit]).await)? {
                report.released += 1;
            }
        }
        for mut case in self.store.newly_breached(now, SWEEP_BATCH).await? {
            case.sla_breached_at = Some(now);
            case.updated_at = now;
            let audit = system_audit(
                case.tenant.clone(),
                "case.sla_breached",
                "case",
                &case.id,
                now,
            )
            .with_changes(["sla_breached_at"]);
            let outcome = self
                .store
                .update(&case, None, &events(&[CaseEvent::SlaBreached]), &[audit])
                .await;
            if lost_race(outcome)? {
                report.breached += 1;
            }
        }
        Ok(report)
    }
}
