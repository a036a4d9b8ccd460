//! Reading the run context and node config: `context.extracted_data`, `context.session.fields`,
//! `context.session.metadata`, `context.checks`, plus typed config accessors that return a
//! reason instead of panicking when a value has the wrong type or range.

use chrono::NaiveDate;
use serde_json::{Map, Value};
use verifa_ports::checks::{CheckOutcome, CheckRequest};

/// `context.extracted_data`, if an object.
pub fn extracted(request: &CheckRequest) -> Option<&Map<String, Value>> {
    request.context.get("extracted_data")?.as_object()
}

/// `context.session`, if an object.
pub fn session(request: &CheckRequest) -> Option<&Map<String, Value>> {
    request.context.get("session")?.as_object()
}

/// `context.session.fields` (user-supplied pre-fill), if an object.
pub fn fields(request: &CheckRequest) -> Option<&Map<String, Value>> {
    session(request)?.get("fields")?.as_object()
}

/// `context.session.metadata`, if an object.
pub fn metadata(request: &CheckRequest) -> Option<&Map<String, Value>> {
    session(request)?.get("metadata")?.as_object()
}

/// `context.checks` (results of earlier checks by policy), if an object.
pub fn checks(request: &CheckRequest) -> Option<&Map<String, Value>> {
    request.context.get("checks")?.as_object()
}

/// A trimmed, non-empty string at `key` of `map` (numbers are rendered, for phone numbers and
/// document numbers sent as JSON numbers).
pub fn text(map: Option<&Map<String, Value>>, key: &str) -> Option<String> {
    match map?.get(key)? {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_owned())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The person's full name from a map: `first_name` + `last_name`, else `full_name`.
pub fn full_name(map: Option<&Map<String, Value>>) -> Option<String> {
    match (text(map, "first_name"), text(map, "last_name")) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (f, l) => text(map, "full_name").or(l).or(f),
    }
}

/// Parses `YYYY-MM-DD` (an RFC 3339 timestamp's date part is accepted too).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let date_part = match s.get(10..11) {
        Some("T" | "t" | " ") => s.get(..10)?,
        _ => s,
    };
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d").ok()
}

/// An invalid-config outcome.
pub fn bad_config(reason: impl std::fmt::Display) -> CheckOutcome {
    CheckOutcome::error(format!("invalid config: {reason}"))
}

/// The config as an object (`null` counts as `{}`).
fn config_obj(config: &Value) -> Result<Option<&Map<String, Value>>, String> {
    match config {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        _ => Err("config must be an object".to_owned()),
    }
}

/// The config value at `key`, absent or `null` → `None`.
pub fn config_value<'a>(config: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    Ok(config_obj(config)?
        .and_then(|m| m.get(key))
        .filter(|v| !v.is_null()))
}

/// An integer in `min..=max`, or `default` when absent.
pub fn config_u32(
    config: &Value,
    key: &str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, String> {
    let Some(v) = config_value(config, key)? else {
        return Ok(default);
    };
    let n = v
        .as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        })
        .ok_or_else(|| format!("{key} must be a non-negative integer"))?;
    u32::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("{key} must be between {min} and {max}"))
}

/// A number in `0.0..=1.0`, or `default` when absent.
pub fn config_unit(config: &Value, key: &str, default: f64) -> Result<f64, String> {
    let Some(v) = config_value(config, key)? else {
        return Ok(default);
    };
    v.as_f64()
        .filter(|f| (0.0..=1.0).contains(f))
        .ok_or_else(|| format!("{key} must be a number between 0 and 1"))
}

/// One of `allowed`, or `default` when absent.
pub fn config_enum(
    config: &Value,
    key: &str,
    default: &'static str,
    allowed: &[&'static str],
) -> Result<&'static str, String> {
    let Some(v) = config_value(config, key)? else {
        return Ok(default);
    };
    let s = v.as_str().unwrap_or_default();
    allowed
        .iter()
        .find(|a| **a == s)
        .copied()
        .ok_or_else(|| format!("{key} must be one of {}", allowed.join(", ")))
}

/// A non-empty list of values from `allowed` (de-duplicated, in the given order), or `default`.
pub fn config_list(
    config: &Value,
    key: &str,
    default: &[&'static str],
    allowed: &[&'static str],
) -> Result<Vec<&'static str>, String> {
    let Some(v) = config_value(config, key)? else {
        return Ok(default.to_vec());
    };
    let items = v
        .as_array()
        .ok_or_else(|| format!("{key} must be an array"))?;
    let mut out: Vec<&'static str> = Vec::new();
    for item in items {
        let s = item.as_str().unwrap_or_default();
        let found = allowed
            .iter()
            .find(|a| **a == s)
            .copied()
            .ok_or_else(|| format!("{key} items must be one of {}", allowed.join(", ")))?;
        if !out.contains(&found) {
            out.push(found);
        }
    }
    if out.is_empty() {
        return Err(format!("{key} must not be empty"));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Request builders for the executor tests.
    use chrono::NaiveDate;
    use serde_json::{Value, json};
    use verifa_domain::tenancy::{Environment, Tenant};
    use verifa_ports::checks::{CheckRequest, DocumentRef};

    pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    pub fn request(policy: &str, config: Value, context: Value) -> CheckRequest {
        CheckRequest {
            tenant: Tenant::new("org_1", Environment::Live),
            session_id: "ses_1".into(),
            run_id: "wfr_1".into(),
            node_id: "node".into(),
            policy: policy.into(),
            config,
            attempt: 1,
            context,
            documents: Vec::new(),
            today: d(2026, 6, 15),
        }
    }

    pub fn with_extracted(policy: &str, config: Value, extracted: Value) -> CheckRequest {
        request(policy, config, json!({"extracted_data": extracted}))
    }

    pub fn doc(id: &str, ty: &str, text: Option<&str>) -> DocumentRef {
        DocumentRef {
            id: id.into(),
            document_type: ty.into(),
            mime_type: "image/jpeg".into(),
            text: text.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_and_names() {
        assert_eq!(
            parse_date("2000-02-29"),
            NaiveDate::from_ymd_opt(2000, 2, 29)
        );
        assert_eq!(
            parse_date("2000-02-29T10:00:00Z"),
            NaiveDate::from_ymd_opt(2000, 2, 29)
        );
        assert_eq!(parse_date("2001-02-29"), None);
        assert_eq!(parse_date("é"), None);
        assert_eq!(parse_date("29/02/2000"), None);
        let m = json!({"first_name": " Jane ", "last_name": "Doe"});
        assert_eq!(full_name(m.as_object()).as_deref(), Some("Jane Doe"));
        let m = json!({"full_name": "Jane Doe", "last_name": 5});
        assert_eq!(full_name(m.as_object()).as_deref(), Some("Jane Doe"));
    }

    #[test]
    fn config_accessors() {
        let c = json!({"n": 5, "f": 0.5, "e": "b", "l": ["x", "x"], "bad": "s"});
        assert_eq!(config_u32(&c, "n", 1, 0, 10), Ok(5));
        assert_eq!(config_u32(&c, "missing", 1, 0, 10), Ok(1));
        assert!(config_u32(&c, "bad", 1, 0, 10).is_err());
        assert!(config_u32(&json!({"n": 11}), "n", 1, 0, 10).is_err());
        assert_eq!(config_unit(&c, "f", 0.1), Ok(0.5));
        assert!(config_unit(&json!({"f": 2}), "f", 0.1).is_err());
        assert_eq!(config_enum(&c, "e", "a", &["a", "b"]), Ok("b"));
        assert_eq!(config_list(&c, "l", &["y"], &["x", "y"]), Ok(vec!["x"]));
        assert!(config_list(&json!({"l": []}), "l", &["y"], &["x", "y"]).is_err());
        assert!(config_u32(&json!([1]), "n", 1, 0, 10).is_err());
        assert_eq!(config_u32(&Value::Null, "n", 1, 0, 10), Ok(1));
    }
}
