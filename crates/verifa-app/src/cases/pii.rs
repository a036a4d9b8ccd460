//! `PUT /cases/{id}/result/pii` (CONTRACT §8.4): a reviewer corrects the extracted data of the
//! case's session (a misread name, a wrong document number). Keys sent replace those keys,
//! `null` removes one, the others stay; only the `extracted_data` keys of reference §14.1.
//!
//! In one transaction: the result's extracted data, sealed again at rest; the session's
//! revision (the change is fenced on it, so a correction never overwrites a run's result
//! written meanwhile); the case's activity; and audit `case.pii_corrected` naming the changed
//! keys (`extracted_data.<key>`), never their values.

use super::CaseService;
use super::actions::refused;
use crate::actor::Caller;
use crate::error::{AppError, FieldError};
use crate::retry::{retrying, written};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use verifa_domain::case::CaseError;
use verifa_domain::session::machine::Transition;
use verifa_domain::settings::PII_FIELDS;
use verifa_ports::sessions::SessionChange;

/// The longest corrected value.
pub const MAX_PII_VALUE_LEN: usize = 500;

/// What a correction answers.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectedResult {
    /// The session.
    pub session_id: String,
    /// The result's status (unchanged by a correction).
    pub status: &'static str,
    /// The extracted data after the correction.
    pub extracted_data: Map<String, Value>,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// The problems of a correction body: unknown keys, values that are not text or `null`.
fn problems(patch: &Map<String, Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if patch.is_empty() {
        errors.push(FieldError::new(
            "extracted_data",
            "must name at least one key",
        ));
    }
    for (key, value) in patch {
        let field = format!("extracted_data.{key}");
        if !PII_FIELDS.contains(&key.as_str()) {
            errors.push(FieldError::new(
                field,
                format!("is not a correctable key; use {}", PII_FIELDS.join(", ")),
            ));
            continue;
        }
        let fits = match value {
            Value::Null => true,
            Value::String(s) => {
                !s.trim().is_empty()
                    && s.chars().count() <= MAX_PII_VALUE_LEN
                    && !s.chars().any(char::is_control)
            }
            _ => false,
        };
        if !fits {
            errors.push(FieldError::new(
                field,
                format!(
                    "must be text of 1 to {MAX_PII_VALUE_LEN} characters without control \
                     characters, or null to remove it"
                ),
            ));
        }
    }
    errors
}

impl CaseService {
    /// Corrects the extracted data of an active case's session.
    pub async fn correct_pii(
        &self,
        caller: &Caller,
        id: &str,
        patch: &Map<String, Value>,
        reviewer_id: Option<&str>,
    ) -> Result<CorrectedResult, AppError> {
        let errors = problems(patch);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let reviewer = match reviewer_id {
            Some(r) => Some(self.reviewer(caller, r).await?),
            None => None,
        };
        retrying!(
            "the case",
            async {
                let mut case = self.get(caller, id).await?;
                if !case.status.is_active() {
                    return Err(refused(CaseError::InvalidState(format!(
                        "cannot correct the data of a case that is {}",
                        case.status.as_str()
                    ))));
                }
                let now = self.clock.now();
                let session = self
                    .sessions
                    .get(&case.tenant, &case.session_id)
                    .await
                    .map_err(AppError::from_repo("session"))?;
                let mut result = self
                    .sessions
                    .result(&case.tenant, &case.session_id)
                    .await?
                    .ok_or_else(|| {
                        AppError::InvalidState("the case's session has no result to correct".into())
                    })?;
                let mut data = crate::sessions::open_extracted(&self.cipher, &session, &result)?;
                let mut changed = Vec::new();
                for (key, value) in patch {
                    let before = data.get(key).cloned();
                    match value {
                        Value::Null => {
                            data.remove(key);
                        }
                        v => {
                            data.insert(key.clone(), v.clone());
                        }
                    }
                    if data.get(key) != before.as_ref() {
                        changed.push(format!("extracted_data.{key}"));
                    }
                }
                let answer = CorrectedResult {
                    session_id: session.id.clone(),
                    status: result.verdict.outcome.as_str(),
                    extracted_data: data.clone(),
                    updated_at: now,
                };
                if changed.is_empty() {
                    return Ok(crate::retry::Attempt::Done(CorrectedResult {
                        updated_at: result.updated_at,
                        ..answer
                    }));
                }
                result.lookups = Some(crate::identities::result_lookups(
                    &self.lookup_key,
                    &data,
                    &crate::sessions::open_fields(&self.cipher, &session),
                ));
                result.extracted_data_sealed =
                    crate::sessions::seal_extracted(&self.cipher, &session, &data)?;
                result.updated_at = now;
                let mut next = session.clone();
                next.updated_at = now;
                let t = Transition {
                    before: session.status,
                    session: next,
                    events: Vec::new(),
                };
                let change = SessionChange::from_transition(t, || {
                    crate::ids::new_id(crate::ids::prefix::EVENT)
                })
                .with_result(result);
                case.last_activity_at = now;
                case.updated_at = now;
                let mut audit = caller
                    .audit("case.pii_corrected", "case", &case.id, now)
                    .with_changes(changed)
                    .with_metadata("session_id", session.id.clone());
                if let Some(r) = &reviewer {
                    audit = audit.with_metadata("reviewer_id", r.clone());
                }
                let outcome = self.store.update(&case, Some(&change), &[], &[audit]).await;
                written(outcome, answer)
            }
            .await
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_reference_keys_with_text_or_null() {
        let body = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(problems(&body(json!({"first_name": "Anna", "ssn": null}))).is_empty());
        let fields: Vec<String> = problems(&body(json!({
            "iban": "DE00", "last_name": 7, "address": " ", "gender": "x\u{7}"
        })))
        .into_iter()
        .map(|e| e.field)
        .collect();
        assert_eq!(
            fields,
            [
                "extracted_data.iban",
                "extracted_data.last_name",
                "extracted_data.address",
                "extracted_data.gender"
            ]
        );
        assert_eq!(
            problems(&Map::new()).len(),
            1,
            "an empty correction says what to send"
        );
    }
}
