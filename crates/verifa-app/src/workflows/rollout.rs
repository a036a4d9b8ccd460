//! The rollout map: which share of new runs each version gets.

use super::{WorkflowService, issues_to_fields};
use crate::api_keys::Caller;
use crate::error::{AppError, FieldError};
use verifa_domain::workflow::{self, RolloutEntry};
use verifa_ports::workflows::WorkflowRecord;

impl WorkflowService {
    /// The rollout map.
    pub async fn rollout(&self, caller: &Caller, id: &str) -> Result<WorkflowRecord, AppError> {
        self.head(caller, id).await
    }

    /// Replaces the rollout map (versions must exist; shares sum to 100).
    pub async fn set_rollout(
        &self,
        caller: &Caller,
        id: &str,
        entries: Vec<(i64, i64)>,
    ) -> Result<WorkflowRecord, AppError> {
        let mut w = self.head(caller, id).await?;
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for (i, (version, pct)) in entries.iter().enumerate() {
            let v = i32::try_from(*version).ok().filter(|v| *v >= 1);
            let p = u8::try_from(*pct).ok().filter(|p| *p <= 100);
            if v.is_none() {
                errors.push(FieldError::new(
                    format!("entries[{i}].version"),
                    "must be a positive version number",
                ));
            }
            if p.is_none() {
                errors.push(FieldError::new(
                    format!("entries[{i}].percentage"),
                    "must be between 0 and 100",
                ));
            }
            if let (Some(version), Some(percentage)) = (v, p) {
                parsed.push(RolloutEntry {
                    version,
                    percentage,
                });
            }
        }
        if errors.is_empty() {
            let existing = self.repo.version_numbers(&caller.tenant(), id).await?;
            errors = issues_to_fields("", workflow::validate_rollout(&parsed, &existing));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let entries: Vec<RolloutEntry> = workflow::normalize(&parsed)
            .into_iter()
            .filter(|e| e.percentage > 0)
            .collect();
        let now = self.clock.now();
        let audit = caller
            .audit("workflow.rollout_updated", "workflow", id, now)
            .with_changes(["rollout"]);
        self.repo
            .set_rollout(&caller.tenant(), id, &entries, now, &[audit])
            .await
            .map_err(AppError::from_repo("workflow"))?;
        w.rollout = entries;
        w.rollout_updated_at = now;
        Ok(w)
    }
}
