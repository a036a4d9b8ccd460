//! What a check sees of its run: the latest result per policy, the extracted data, and the
//! session's facts and pre-fill fields.

use crate::session::Session;
use crate::workflow::RunState;
use serde_json::{Map, Value, json};

/// The check context: `{"checks": {<policy>: {status, …outputs}}, "extracted_data": {…},
/// "session": {"country", "metadata", "is_sandbox", "fields"}}`. The session is read live (its
/// metadata may change while the run goes on); `fields` are the decrypted pre-fill fields.
pub fn check_context(state: &RunState, session: &Session, fields: Map<String, Value>) -> Value {
    let mut checks = Map::new();
    for a in &state.attempts {
        let mut entry = match &a.output {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        entry.insert("status".into(), Value::String(a.status.as_str().to_owned()));
        checks.insert(a.policy.clone(), Value::Object(entry));
    }
    json!({
        "checks": checks,
        "extracted_data": state.context.extracted_data,
        "session": {
            "country": session.country,
            "metadata": session.metadata,
            "is_sandbox": session.tenant.environment.is_sandbox(),
            "fields": fields,
        }
    })
}
