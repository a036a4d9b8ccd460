//! Dropping the personal data a run holds once its session is redacted (CONTRACT §11.2). The
//! run keeps its shape, which is what an auditor asks about later: the path taken, every node's
//! status, attempt counts, timings, overrides (who, why) and the outcome. What checks saw and
//! said about the person (their outputs, their errors, the extracted data, external decision
//! metadata) goes.

use super::state::RunState;
use serde_json::Value;

impl RunState {
    /// Removes the run's personal data in place; idempotent.
    pub fn redact_personal_data(&mut self) {
        for result in self.node_results.values_mut() {
            result.output = Value::Null;
            result.error = None;
        }
        for attempt in &mut self.attempts {
            attempt.output = Value::Null;
            attempt.error = None;
        }
        for decision in &mut self.external_decisions {
            decision.metadata = Value::Null;
        }
        self.context.extracted_data.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::{
        AttemptRecord, CheckOverride, CheckStatus, Decision, ExternalDecision, NodeResult,
        NodeType, RunContext, RunState, RunStatus,
    };
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn finished_run() -> RunState {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let mut context = RunContext::default();
        context
            .extracted_data
            .insert("full_name".into(), json!("Jane Doe"));
        let mut state = RunState::new(context);
        state.status = RunStatus::Completed;
        state.path = vec!["start".into(), "doc".into(), "approve".into()];
        state.node_results.insert(
            "doc".into(),
            NodeResult {
                node_type: NodeType::Policy,
                policy: Some("document_check".into()),
                status: CheckStatus::Failed,
                passed: Some(false),
                attempts: 1,
                started_at: Some(at),
                completed_at: Some(at),
                duration_ms: Some(12),
                next_node: Some("approve".into()),
                output: json!({"extracted_data": {"document_number": "X1234567"}}),
                error: Some("name Jane Doe does not match".into()),
                check_override: Some(CheckOverride {
                    by: "usr_1".into(),
                    reason: "photo checked by hand".into(),
                    at,
                    original_status: CheckStatus::Failed,
                }),
            },
        );
        state.attempts.push(AttemptRecord {
            node_id: "doc".into(),
            policy: "document_check".into(),
            attempt: 1,
            status: CheckStatus::Failed,
            output: json!({"date_of_birth": "1990-01-01"}),
            error: Some("Jane Doe".into()),
            started_at: at,
            completed_at: at,
            duration_ms: 12,
        });
        state.external_decisions.push(ExternalDecision {
            node_id: "wait".into(),
            decision: Decision::Continue,
            metadata: json!({"email": "jane@example.com"}),
            decided_at: at,
        });
        state
    }

    #[test]
    fn no_personal_value_survives_redaction() {
        let mut state = finished_run();
        state.redact_personal_data();
        let text = serde_json::to_string(&state).unwrap();
        for value in ["Jane Doe", "X1234567", "1990-01-01", "jane@example.com"] {
            assert!(!text.contains(value), "{value} survived: {text}");
        }
    }

    #[test]
    fn the_run_keeps_its_shape_and_decisions() {
        let before = finished_run();
        let mut after = before.clone();
        after.redact_personal_data();
        assert_eq!(after.path, before.path);
        assert_eq!(after.status, before.status);
        let (b, a) = (&before.node_results["doc"], &after.node_results["doc"]);
        assert_eq!(
            (a.status, a.passed, a.attempts, a.duration_ms),
            (b.status, b.passed, b.attempts, b.duration_ms)
        );
        assert_eq!(a.check_override, b.check_override, "who overrode, and why");
        assert_eq!(after.attempts[0].status, CheckStatus::Failed);
        assert_eq!(after.external_decisions[0].decision, Decision::Continue);
        let mut twice = after.clone();
        twice.redact_personal_data();
        assert_eq!(twice, after, "idempotent");
    }
}
