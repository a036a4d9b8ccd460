//! Session metadata: its limits (CONTRACT §1.8) and the merge rule of `PATCH /sessions/{id}`.

use crate::fields;
use serde_json::{Map, Value};

/// Most metadata keys.
pub const MAX_METADATA_KEYS: usize = fields::MAX_KEYS;
/// Largest metadata value once serialised.
pub const MAX_METADATA_VALUE_BYTES: usize = fields::MAX_VALUE_BYTES;
/// Longest external reference.
pub const MAX_EXTERNAL_REF_LEN: usize = 255;

/// Validates a metadata object; returns `(field, message)` problems.
pub fn check_metadata(metadata: &Map<String, Value>) -> Vec<(String, String)> {
    fields::check("metadata", metadata)
}

/// Merges `patch` into `metadata`: a `null` value deletes its key, any other value sets it.
pub fn merge_metadata(metadata: &mut Map<String, Value>, patch: Map<String, Value>) {
    fields::merge(metadata, &patch);
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
    fn external_refs() {
        assert!(valid_external_ref("user_1"));
        assert!(!valid_external_ref("   "));
        assert!(!valid_external_ref(&"x".repeat(256)));
    }
}
