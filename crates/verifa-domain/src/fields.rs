//! Free-form JSON objects that integrators attach to resources (`metadata`, `custom_fields` of
//! sessions, identities and cases): their limits (CONTRACT §1.8) and the PATCH merge rule that
//! every resource shares (a key sent replaces that key, `null` deletes it, others stay).

use serde_json::{Map, Value};

/// Most keys of one object.
pub const MAX_KEYS: usize = 50;
/// Largest value once serialised.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Longest key.
pub const MAX_KEY_LEN: usize = 100;

/// Validates the object sent as `field`; returns `(field path, message)` problems.
pub fn check(field: &str, object: &Map<String, Value>) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if object.len() > MAX_KEYS {
        problems.push((
            field.to_owned(),
            format!("must have at most {MAX_KEYS} keys"),
        ));
    }
    for (k, v) in object {
        if k.is_empty() || k.chars().count() > MAX_KEY_LEN {
            problems.push((
                format!("{field}.{k}"),
                format!("keys must be 1 to {MAX_KEY_LEN} characters"),
            ));
        }
        if serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0) > MAX_VALUE_BYTES {
            problems.push((
                format!("{field}.{k}"),
                format!("must be at most {MAX_VALUE_BYTES} bytes once serialised"),
            ));
        }
    }
    problems
}

/// Merges `patch` into `object`: a `null` value deletes its key, any other value sets it.
pub fn merge(object: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            object.remove(k);
        } else {
            object.insert(k.clone(), v.clone());
        }
    }
}

/// `object` after merging `patch`, and the problems of the result (limits hold for what is
/// stored, so a patch that deletes keys may bring an object back under them).
pub fn merged(
    field: &str,
    object: &Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<(String, String)>> {
    // The patch as sent keeps the limits too: 60 keys of which 20 delete are 60 keys sent.
    let problems = check(field, patch);
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = object.clone();
    merge(&mut out, patch);
    let problems = check(field, &out);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_over_the_limits_is_refused_even_when_its_result_is_within_them() {
        let stored = obj(json!({"a": 1}));
        let mut patch = Map::new();
        for i in 0..=MAX_KEYS {
            patch.insert(format!("k{i}"), Value::Null);
        }
        let problems = merged("metadata", &stored, &patch).unwrap_err();
        assert_eq!(problems[0].0, "metadata");
        let empty_key = obj(json!({"": null}));
        assert_eq!(
            merged("metadata", &stored, &empty_key).unwrap_err()[0].0,
            "metadata."
        );
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn limits_name_the_field_and_key() {
        let mut m = Map::new();
        for i in 0..51 {
            m.insert(format!("k{i}"), json!(i));
        }
        assert_eq!(check("custom_fields", &m)[0].0, "custom_fields");
        let big = obj(json!({"x": "a".repeat(17 * 1024)}));
        assert_eq!(check("metadata", &big)[0].0, "metadata.x");
        assert_eq!(check("metadata", &obj(json!({"": 1})))[0].0, "metadata.");
    }

    #[test]
    fn null_deletes_and_values_set() {
        let mut m = obj(json!({"a": 1, "b": 2}));
        merge(&mut m, &obj(json!({"a": null, "c": 3})));
        assert_eq!(Value::Object(m), json!({"b": 2, "c": 3}));
    }

    #[test]
    fn merged_checks_what_would_be_stored() {
        let mut full = Map::new();
        for i in 0..50 {
            full.insert(format!("k{i}"), json!(i));
        }
        assert!(merged("metadata", &full, &obj(json!({"one_more": 1}))).is_err());
        let swapped = merged("metadata", &full, &obj(json!({"k0": null, "new": 1})));
        assert_eq!(swapped.map(|m| m.len()), Ok(50));
    }
}
