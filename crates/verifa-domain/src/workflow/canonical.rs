//! Canonical JSON (object keys sorted recursively, no whitespace, serde_json number and string
//! formatting) and the graph content hash stored on every version (`content_hash`).

use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::model::Graph;

/// Serialises `value` canonically: keys sorted by their UTF-8 bytes at every level, no
/// whitespace. Independent of the `preserve_order` feature and of insertion order.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(v, out);
            }
            out.push(']');
        }
        Value::String(s) => write_str(s, out),
        // Null, booleans and numbers: serde_json's own formatting.
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    // Display of a Value::String is the JSON-escaped string.
    let _ = write!(out, "{}", Value::String(s.to_owned()));
}

impl Graph {
    /// Canonical JSON of this graph.
    pub fn canonical_json(&self) -> String {
        // Serialising a Graph into a Value cannot fail (string keys, no non-finite floats
        // outside serde_json's own Values); Null is a harmless fallback.
        canonical_json(&serde_json::to_value(self).unwrap_or(Value::Null))
    }

    /// Lowercase hex SHA-256 of [`Graph::canonical_json`].
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_recursively_without_whitespace() {
        let v = json!({"b": [1, {"z": 1.5, "a": "x\"y"}], "a": null, "c": {"y": true, "x": -3}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":null,"b":[1,{"a":"x\"y","z":1.5}],"c":{"x":-3,"y":true}}"#
        );
    }

    #[test]
    fn hash_ignores_key_order() {
        let a: Graph = serde_json::from_str(
            r#"{"entry":"s","nodes":{"s":{"type":"start","next":"t"},"t":{"type":"terminal","outcome":"approved"}}}"#,
        )
        .expect("parses");
        let b: Graph = serde_json::from_str(
            r#"{"nodes":{"t":{"outcome":"approved","type":"terminal"},"s":{"next":"t","type":"start"}},"entry":"s"}"#,
        )
        .expect("parses");
        assert_eq!(a.content_hash(), b.content_hash());
        assert_eq!(a.content_hash().len(), 64);
        assert_eq!(
            a.canonical_json(),
            r#"{"entry":"s","nodes":{"s":{"next":"t","type":"start"},"t":{"outcome":"approved","type":"terminal"}}}"#
        );
    }
}
