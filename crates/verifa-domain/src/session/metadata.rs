//! Session metadata: its limits (CONTRACT §1.8) and the merge rule of `PATCH /sessions/{id}`.

use serde_json::{Map, Value};

/// Most metadata keys.
pub const MAX_METADATA_KEYS: usize = 50;
/// Largest metadata value once serialised.
pub const MAX_METADATA_VALUE_BYTES: usize = 16 * 1024;
/// Longest external reference.
pub const MAX_EXTERNAL_REF_LEN: usize = 255;

/// Validates a metadata object; returns `(field, message)` problems.
pub fn check_metadata(metadata: &Map<String, Value>) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if metadata.len() > MAX_METADATA_KEYS {
        problems.push((
            "metadata".to_owned(),
            format!("must have at most {MAX_METADATA_KEYS} keys"),
        ));
    }
    for (k, v) in metadata {
        if k.is_empty() || k.chars().count() > 100 {
            problems.push((
                format!("metadata.{k}"),
                "keys must be 1 to 100 characters".to_owned(),
            ));
        }
        if serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0) > MAX_METADATA_VALUE_BYTES {
            problems.push((
                format!("metadata.{k}"),
                format!("must be at most {MAX_METADATA_VALUE_BYTES} bytes once serialised"),
            ));
        }
    }
    problems
}

/// Merges `patch` into `metadata`: a `null` value deletes its key, any other value sets it.
pub fn merge_metadata(metadata: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            metadata.remove(&k);
        } else {
            metadata.insert(k, v);
        }
    }
}

/// Whether an external reference is acceptable (1 to 255 characters, not blank).
pub fn valid_external_ref(r: &str) -> bool {
    !r.trim().is_empty() && r.chars().count() <= MAX_EXTERNAL_REF_LEN
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_limits() {
        let mut m = Map::new();
        for i in 0..51 {
            m.insert(format!("k{i}"), json!(i));
        }
        assert_eq!(check_metadata(&m).len(), 1);
        let mut big = Map::new();
        big.insert("x".into(), Value::String("a".repeat(17 * 1024)));
        assert_eq!(check_metadata(&big)[0].0, "metadata.x");
    }

    #[test]
    fn null_deletes_and_values_set() {
        let mut m = json!({"a": 1, "b": 2})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let patch = json!({"a": null, "c": 3})
            .as_object()
            .cloned()
            .unwrap_or_default();
        merge_metadata(&mut m, patch);
        assert_eq!(Value::Object(m), json!({"b": 2, "c": 3}));
    }

    #[test]
    fn external_refs() {
        assert!(valid_external_ref("user_1"));
        assert!(!valid_external_ref("   "));
        assert!(!valid_external_ref(&"x".repeat(256)));
    }
}
