//! The JSON body of one webhook delivery (CONTRACT §5, reference §13.2).
//!
//! Shape — the flat form **plus** a `data` copy, so receivers written for either documented form
//! work:
//!
//! ```json
//! {"event": "session.approved", "idempotency_key": "idk_…", "created_at": "2026-02-01T12:05:00Z",
//!  "session_id": "ses_…", "external_ref": "user_456", "status": "approved", "is_sandbox": false,
//!  "data": {"session_id": "ses_…", "external_ref": "user_456", "status": "approved",
//!           "is_sandbox": false}}
//! ```
//!
//! - `created_at` (top level) is when the event happened, RFC 3339 UTC. `idempotency_key` is
//!   generated once per delivery by the caller and is the same on every attempt.
//! - The envelope keys `event`, `idempotency_key`, `created_at` and `data` win at the top level;
//!   an event field with the same name (e.g. a session's own `created_at`) stays under `data`.
//!
//! Per-endpoint shaping, in this order:
//! 1. **`attribute_blocklist`**: dotted paths (`result.extracted_data.date_of_birth`,
//!    `data.external_ref`). An optional leading `data.` is ignored, and the path is removed both
//!    at the top level and under `data`, so a blocked attribute never leaks through the other copy.
//!    Arrays on the way are traversed element by element. Segments may be written in any key
//!    casing (`dateOfBirth`, `date-of-birth`). The envelope keys `event`, `idempotency_key` and
//!    `created_at` cannot be removed; the path `data` removes the whole `data` copy.
//! 2. **key inflection** via [`crate::inflection::inflect`] (snake, camel, kebab).
//!
//! **`event_filter_conditions`** ([`matches_filter_conditions`]): a JSON object; the event is
//! delivered only when **every** condition holds. A condition `key: value` holds when the event's
//! field `key` equals `value`; `key: [v1, v2, …]` holds when the field equals one of the values.
//! The key `event` refers to the event name; other keys are event fields, looked up by name and
//! then as a dotted path (`result.face_match_passed`). A field the event does not carry fails the
//! condition (so `{"check_type": "sanction"}` drops events without a `check_type`), except that a
//! `null` condition also matches a missing field. Numbers compare by value (`1` = `1.0`).

use crate::inflection::{Inflection, inflect};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// Prefix of delivery idempotency keys.
pub const IDEMPOTENCY_KEY_PREFIX: &str = "idk_";
/// Most entries in `attribute_blocklist`.
pub const MAX_BLOCKLIST_ENTRIES: usize = 100;
/// Most keys in `event_filter_conditions`.
pub const MAX_FILTER_CONDITIONS: usize = 50;

const ENVELOPE_KEYS: [&str; 4] = ["event", "idempotency_key", "created_at", "data"];
const PROTECTED_KEYS: [&str; 3] = ["event", "idempotency_key", "created_at"];

/// One event to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// Event name, e.g. `session.approved`.
    pub event: String,
    /// The event's fields in snake_case (`session_id`, `external_ref`, `status`, `is_sandbox`, …).
    pub fields: Map<String, Value>,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
}

/// The endpoint settings that shape a payload.
#[derive(Debug, Clone, Copy)]
pub struct PayloadOptions<'a> {
    /// The endpoint's `key_inflection`.
    pub key_inflection: Inflection,
    /// The endpoint's `attribute_blocklist`.
    pub attribute_blocklist: &'a [String],
}

/// Whether `key` looks like a delivery idempotency key (`idk_` + 8..=128 of `[A-Za-z0-9_-]`).
pub fn is_valid_idempotency_key(key: &str) -> bool {
    key.strip_prefix(IDEMPOTENCY_KEY_PREFIX)
        .is_some_and(|rest| {
            (8..=128).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// Builds the shaped payload of `event` for one endpoint.
pub fn build_payload(
    event: &WebhookEvent,
    idempotency_key: &str,
    options: &PayloadOptions<'_>,
) -> Value {
    let mut top = Map::new();
    top.insert("event".into(), Value::String(event.event.clone()));
    top.insert(
        "idempotency_key".into(),
        Value::String(idempotency_key.to_owned()),
    );
    top.insert(
        "created_at".into(),
        Value::String(
            event
                .created_at
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        ),
    );
    for (k, v) in &event.fields {
        if !ENVELOPE_KEYS.contains(&k.as_str()) {
            top.insert(k.clone(), v.clone());
        }
    }
    top.insert("data".into(), Value::Object(event.fields.clone()));
    let mut payload = Value::Object(top);
    apply_blocklist(&mut payload, options.attribute_blocklist);
    inflect(payload, options.key_inflection)
}

/// Serialises a payload to the exact bytes that are signed and sent.
pub fn to_body(payload: &Value) -> Vec<u8> {
    // Serialising a `Value` cannot fail (string keys only).
    serde_json::to_vec(payload).unwrap_or_default()
}

/// Converts one path segment written in camelCase or kebab-case to snake_case.
fn snake_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() + 4);
    for c in segment.chars() {
        if c == '-' {
            out.push('_');
        } else if c.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits and normalises a blocklist path; `None` when a segment is empty.
fn parse_path(path: &str) -> Option<Vec<String>> {
    let segments: Vec<String> = path.trim().split('.').map(snake_segment).collect();
    if segments.iter().any(String::is_empty) {
        return None;
    }
    Some(segments)
}

/// Why an `attribute_blocklist` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlocklistError {
    /// More than [`MAX_BLOCKLIST_ENTRIES`] entries.
    #[error("attribute_blocklist has more than {MAX_BLOCKLIST_ENTRIES} entries")]
    TooMany,
    /// An empty path or empty segment.
    #[error("invalid attribute path '{0}'")]
    InvalidPath(String),
}

/// Checks an `attribute_blocklist` (non-empty dotted paths, at most 100).
pub fn validate_blocklist<S: AsRef<str>>(paths: &[S]) -> Result<(), BlocklistError> {
    if paths.len() > MAX_BLOCKLIST_ENTRIES {
        return Err(BlocklistError::TooMany);
    }
    for p in paths {
        if parse_path(p.as_ref()).is_none() {
            return Err(BlocklistError::InvalidPath(p.as_ref().to_owned()));
        }
    }
    Ok(())
}

fn remove_path(value: &mut Value, segments: &[String]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| remove_path(v, segments)),
        Value::Object(map) => match segments {
            [] => {}
            [last] => {
                map.shift_remove(last.as_str());
            }
            [first, rest @ ..] => {
                if let Some(child) = map.get_mut(first.as_str()) {
                    remove_path(child, rest);
                }
            }
        },
        _ => {}
    }
}

/// Removes every blocklisted path from a (snake_case) payload, at the top level and under `data`.
pub fn apply_blocklist<S: AsRef<str>>(payload: &mut Value, paths: &[S]) {
    for p in paths {
        let Some(mut segments) = parse_path(p.as_ref()) else {
            continue;
        };
        if segments.len() == 1 && segments.first().is_some_and(|s| s == "data") {
            if let Value::Object(top) = payload {
                top.shift_remove("data");
            }
            continue;
        }
        if segments.len() > 1 && segments.first().is_some_and(|s| s == "data") {
            segments.remove(0);
        }
        if let Value::Object(top) = payload {
            if let Some(data) = top.get_mut("data") {
                remove_path(data, &segments);
            }
            let protected = segments.len() == 1
                && segments
                    .first()
                    .is_some_and(|s| PROTECTED_KEYS.contains(&s.as_str()) || s == "data");
            if !protected {
                remove_path(payload, &segments);
            }
        }
    }
}

/// Why `event_filter_conditions` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterConditionError {
    /// Not a JSON object.
    #[error("event_filter_conditions must be an object")]
    NotAnObject,
    /// More than [`MAX_FILTER_CONDITIONS`] keys.
    #[error("event_filter_conditions has more than {MAX_FILTER_CONDITIONS} conditions")]
    TooMany,
    /// An empty key.
    #[error("event_filter_conditions has an empty key")]
    EmptyKey,
    /// A value that is an object, an empty array or an array holding non-scalars.
    #[error("condition '{0}' must be a scalar or a non-empty array of scalars")]
    InvalidValue(String),
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// Checks the shape of `event_filter_conditions` (see the module docs for the rule).
pub fn validate_filter_conditions(conditions: &Value) -> Result<(), FilterConditionError> {
    let map = conditions
        .as_object()
        .ok_or(FilterConditionError::NotAnObject)?;
    if map.len() > MAX_FILTER_CONDITIONS {
        return Err(FilterConditionError::TooMany);
    }
    for (k, v) in map {
        if k.trim().is_empty() {
            return Err(FilterConditionError::EmptyKey);
        }
        let ok = match v {
            Value::Array(items) => !items.is_empty() && items.iter().all(is_scalar),
            other => is_scalar(other),
        };
        if !ok {
            return Err(FilterConditionError::InvalidValue(k.clone()));
        }
    }
    Ok(())
}

fn lookup<'a>(event: &'a WebhookEvent, key: &str) -> Option<&'a Value> {
    if let Some(v) = event.fields.get(key) {
        return Some(v);
    }
    let segments = parse_path(key)?;
    let (first, rest) = segments.split_first()?;
    let mut current = event.fields.get(first.as_str())?;
    for s in rest {
        current = current.as_object()?.get(s.as_str())?;
    }
    Some(current)
}

fn scalar_eq(expected: &Value, actual: Option<&Value>) -> bool {
    match (expected, actual) {
        (Value::Null, None | Some(Value::Null)) => true,
        (Value::Number(a), Some(Value::Number(b))) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        (e, Some(a)) => e == a,
        (_, None) => false,
    }
}

/// Whether `event` passes the endpoint's `event_filter_conditions` (empty = everything passes).
pub fn matches_filter_conditions(conditions: &Map<String, Value>, event: &WebhookEvent) -> bool {
    let event_name = Value::String(event.event.clone());
    conditions.iter().all(|(key, expected)| {
        let actual = if key == "event" {
            Some(&event_name)
        } else {
            lookup(event, key)
        };
        match expected {
            Value::Array(options) => options.iter().any(|o| scalar_eq(o, actual)),
            single => scalar_eq(single, actual),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn approved() -> WebhookEvent {
        let fields = json!({
            "session_id": "ses_abc123",
            "external_ref": "user_456",
            "status": "approved",
            "is_sandbox": false,
            "identity_id": "idn_def789",
            "created_at": "2026-02-01T12:00:00Z",
            "result": {
                "face_match_passed": true,
                "extracted_data": {"first_name": "Jane", "date_of_birth": "1990-01-01"}
            },
            "metadata": {"my_key": 1}
        });
        WebhookEvent {
            event: "session.approved".into(),
            fields: fields.as_object().cloned().unwrap(),
            created_at: Utc.with_ymd_and_hms(2026, 2, 1, 12, 5, 0).unwrap(),
        }
    }

    fn snake(blocklist: &[String]) -> PayloadOptions<'_> {
        PayloadOptions {
            key_inflection: Inflection::Snake,
            attribute_blocklist: blocklist,
        }
    }

    #[test]
    fn flat_form_plus_data_copy() {
        let p = build_payload(&approved(), "idk_0123456789abcdef", &snake(&[]));
        assert_eq!(p["event"], "session.approved");
        assert_eq!(p["idempotency_key"], "idk_0123456789abcdef");
        assert_eq!(p["created_at"], "2026-02-01T12:05:00Z");
        assert_eq!(p["session_id"], "ses_abc123");
        assert_eq!(p["is_sandbox"], false);
        assert_eq!(p["result"]["face_match_passed"], true);
        assert_eq!(p["data"]["session_id"], "ses_abc123");
        // The session's own created_at survives under data; the top level is the event time.
        assert_eq!(p["data"]["created_at"], "2026-02-01T12:00:00Z");
        assert!(p["data"].get("event").is_none());
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("event"));
        assert_eq!(keys.last().map(|k| k.as_str()), Some("data"));
    }

    #[test]
    fn payload_is_identical_across_retries() {
        let a = to_body(&build_payload(
            &approved(),
            "idk_0123456789abcdef",
            &snake(&[]),
        ));
        let b = to_body(&build_payload(
            &approved(),
            "idk_0123456789abcdef",
            &snake(&[]),
        ));
        assert_eq!(a, b);
    }

    #[test]
    fn blocklist_removes_both_copies() {
        let list = vec![
            "result.extracted_data.date_of_birth".to_owned(),
            "data.external_ref".to_owned(),
        ];
        let p = build_payload(&approved(), "idk_0123456789abcdef", &snake(&list));
        assert!(p["result"]["extracted_data"].get("date_of_birth").is_none());
        assert!(
            p["data"]["result"]["extracted_data"]
                .get("date_of_birth")
                .is_none()
        );
        assert_eq!(p["result"]["extracted_data"]["first_name"], "Jane");
        assert!(p.get("external_ref").is_none());
        assert!(p["data"].get("external_ref").is_none());
        assert_eq!(p["session_id"], "ses_abc123");
    }

    #[test]
    fn blocklist_edge_cases() {
        let list = vec![
            "event".to_owned(),
            "idempotency_key".to_owned(),
            "created_at".to_owned(),
            "result.extractedData.firstName".to_owned(),
            "missing.path.here".to_owned(),
            "session_id.not_an_object".to_owned(),
            "..".to_owned(),
        ];
        let p = build_payload(&approved(), "idk_0123456789abcdef", &snake(&list));
        assert_eq!(p["event"], "session.approved");
        assert_eq!(p["idempotency_key"], "idk_0123456789abcdef");
        assert_eq!(p["created_at"], "2026-02-01T12:05:00Z");
        assert!(p["data"].get("created_at").is_none());
        assert!(p["result"]["extracted_data"].get("first_name").is_none());
        assert_eq!(p["session_id"], "ses_abc123");

        let only_flat = vec!["data".to_owned()];
        let p = build_payload(&approved(), "idk_0123456789abcdef", &snake(&only_flat));
        assert!(p.get("data").is_none());
        assert_eq!(p["status"], "approved");

        let mut arr = json!({"hits": [{"name": "a", "dob": 1}, {"name": "b"}], "data": {"hits": [{"dob": 2}]}});
        apply_blocklist(&mut arr, &["hits.dob"]);
        assert_eq!(
            arr,
            json!({"hits": [{"name": "a"}, {"name": "b"}], "data": {"hits": [{}]}})
        );
    }

    #[test]
    fn blocklist_validation() {
        assert!(validate_blocklist(&["a.b", "data.c"]).is_ok());
        assert_eq!(
            validate_blocklist(&["a..b"]),
            Err(BlocklistError::InvalidPath("a..b".into()))
        );
        assert!(validate_blocklist(&[""]).is_err());
        assert_eq!(
            validate_blocklist(&vec!["a"; 101]),
            Err(BlocklistError::TooMany)
        );
    }

    #[test]
    fn inflection_applies_after_the_blocklist() {
        let list = vec!["result.extracted_data.date_of_birth".to_owned()];
        let opts = PayloadOptions {
            key_inflection: Inflection::Camel,
            attribute_blocklist: &list,
        };
        let p = build_payload(&approved(), "idk_0123456789abcdef", &opts);
        assert_eq!(p["sessionId"], "ses_abc123");
        assert_eq!(p["idempotencyKey"], "idk_0123456789abcdef");
        assert_eq!(p["data"]["result"]["faceMatchPassed"], true);
        assert!(p["result"]["extractedData"].get("dateOfBirth").is_none());
        // User metadata keys are never inflected.
        assert_eq!(p["metadata"]["my_key"], 1);
        let kebab = build_payload(
            &approved(),
            "idk_0123456789abcdef",
            &PayloadOptions {
                key_inflection: Inflection::Kebab,
                attribute_blocklist: &[],
            },
        );
        assert_eq!(kebab["is-sandbox"], false);
        assert_eq!(kebab["data"]["external-ref"], "user_456");
    }

    #[test]
    fn filter_conditions() {
        let ev = approved();
        let cond = |v: Value| v.as_object().cloned().unwrap();
        assert!(matches_filter_conditions(&Map::new(), &ev));
        assert!(matches_filter_conditions(
            &cond(json!({"is_sandbox": false})),
            &ev
        ));
        assert!(!matches_filter_conditions(
            &cond(json!({"is_sandbox": true})),
            &ev
        ));
        assert!(matches_filter_conditions(
            &cond(json!({"is_sandbox": false, "status": ["approved", "rejected"]})),
            &ev
        ));
        assert!(!matches_filter_conditions(
            &cond(json!({"status": ["declined"]})),
            &ev
        ));
        // A field the event does not carry fails the condition.
        assert!(!matches_filter_conditions(
            &cond(json!({"check_type": "sanction"})),
            &ev
        ));
        assert!(matches_filter_conditions(
            &cond(json!({"check_type": null})),
            &ev
        ));
        assert!(matches_filter_conditions(
            &cond(json!({"event": "session.approved"})),
            &ev
        ));
        assert!(matches_filter_conditions(
            &cond(json!({"event": ["session.approved", "session.declined"]})),
            &ev
        ));
        assert!(matches_filter_conditions(
            &cond(json!({"result.face_match_passed": true})),
            &ev
        ));
        assert!(matches_filter_conditions(
            &cond(json!({"isSandbox": false})),
            &ev
        ));
        assert!(!matches_filter_conditions(
            &cond(json!({"result.nope": true})),
            &ev
        ));
        let mut check = ev.clone();
        check.event = "check.completed".into();
        check.fields.insert("check_type".into(), json!("sanction"));
        check.fields.insert("score".into(), json!(1));
        assert!(matches_filter_conditions(
            &cond(json!({"check_type": "sanction"})),
            &check
        ));
        assert!(matches_filter_conditions(
            &cond(json!({"score": 1.0})),
            &check
        ));
        assert!(!matches_filter_conditions(
            &cond(json!({"score": "1"})),
            &check
        ));
    }

    #[test]
    fn filter_condition_validation() {
        assert!(validate_filter_conditions(&json!({})).is_ok());
        assert!(validate_filter_conditions(&json!({"a": 1, "b": ["x", null], "c": false})).is_ok());
        assert_eq!(
            validate_filter_conditions(&json!([1])),
            Err(FilterConditionError::NotAnObject)
        );
        assert_eq!(
            validate_filter_conditions(&json!({"a": {"b": 1}})),
            Err(FilterConditionError::InvalidValue("a".into()))
        );
        assert_eq!(
            validate_filter_conditions(&json!({"a": []})),
            Err(FilterConditionError::InvalidValue("a".into()))
        );
        assert_eq!(
            validate_filter_conditions(&json!({"a": [[1]]})),
            Err(FilterConditionError::InvalidValue("a".into()))
        );
        assert_eq!(
            validate_filter_conditions(&json!({" ": 1})),
            Err(FilterConditionError::EmptyKey)
        );
    }

    #[test]
    fn idempotency_key_shape() {
        assert!(is_valid_idempotency_key("idk_a1b2c3d4e5f6"));
        assert!(!is_valid_idempotency_key("idk_short"));
        assert!(!is_valid_idempotency_key("key_a1b2c3d4e5f6"));
        assert!(!is_valid_idempotency_key("idk_a1b2c3d4 e5f6"));
    }
}
