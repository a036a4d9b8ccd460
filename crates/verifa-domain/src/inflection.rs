//! Response key casing (`Key-Inflection`, CONTRACT §1.5): snake (as produced), camel or kebab,
//! applied recursively, except to keys that are data chosen by users (node ids, metadata, …).

use serde_json::{Map, Value};

/// A response key casing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inflection {
    /// `face_match_passed` (the canonical form).
    Snake,
    /// `faceMatchPassed`.
    Camel,
    /// `face-match-passed`.
    Kebab,
}

impl Inflection {
    /// Every variant, in declaration order.
    pub const ALL: [Inflection; 3] = [Inflection::Snake, Inflection::Camel, Inflection::Kebab];

    /// The setting's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Inflection::Snake => "snake",
            Inflection::Camel => "camel",
            Inflection::Kebab => "kebab",
        }
    }

    /// Parses a header or key setting value.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "snake" => Some(Inflection::Snake),
            "camel" => Some(Inflection::Camel),
            "kebab" => Some(Inflection::Kebab),
            _ => None,
        }
    }
}

/// Objects under these keys are maps keyed by user data: their own keys stay, their values are
/// still schema (e.g. a node's `on_pass`) and are inflected.
const DATA_KEYED_MAPS: &[&str] = &[
    "nodes",
    "node_results",
    "check_results",
    "counts_by_policy",
    "by_node",
    "by_version",
    "outcomes",
];

/// Values under these keys are user data through and through and are never touched.
const OPAQUE_VALUES: &[&str] = &[
    "metadata",
    "data_requirements",
    "graph_layout",
    "config",
    "config_schema",
    "output",
    "outputs",
    "screening_settings",
    "event_filter_conditions",
    "fields",
];

/// Rewrites the keys of `value` into `inflection`.
pub fn inflect(value: Value, inflection: Inflection) -> Value {
    if inflection == Inflection::Snake {
        return value;
    }
    convert(value, inflection)
}

fn convert(value: Value, inflection: Inflection) -> Value {
    match value {
        Value::Object(map) => Value::Object(convert_object(map, inflection)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| convert(v, inflection)).collect())
        }
        other => other,
    }
}

fn convert_object(map: Map<String, Value>, inflection: Inflection) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, v)| {
            let new_value = if OPAQUE_VALUES.contains(&key.as_str()) {
                v
            } else if DATA_KEYED_MAPS.contains(&key.as_str()) {
                match v {
                    Value::Object(inner) => Value::Object(
                        inner
                            .into_iter()
                            .map(|(k, iv)| (k, convert(iv, inflection)))
                            .collect(),
                    ),
                    other => convert(other, inflection),
                }
            } else {
                convert(v, inflection)
            };
            (rename(&key, inflection), new_value)
        })
        .collect()
}

/// Renames one snake_case key.
pub fn rename(key: &str, inflection: Inflection) -> String {
    match inflection {
        Inflection::Snake => key.to_owned(),
        Inflection::Kebab => key.replace('_', "-"),
        Inflection::Camel => {
            let mut out = String::with_capacity(key.len());
            let mut upper = false;
            for (i, c) in key.chars().enumerate() {
                if c == '_' && i > 0 {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_renamed_recursively() {
        let v = json!({"session_id": "s", "extracted_data": {"first_name": "Jane"}, "list": [{"is_active": true}]});
        assert_eq!(
            inflect(v.clone(), Inflection::Camel),
            json!({"sessionId": "s", "extractedData": {"firstName": "Jane"}, "list": [{"isActive": true}]})
        );
        assert_eq!(
            inflect(v.clone(), Inflection::Kebab),
            json!({"session-id": "s", "extracted-data": {"first-name": "Jane"}, "list": [{"is-active": true}]})
        );
        assert_eq!(inflect(v.clone(), Inflection::Snake), v);
    }

    #[test]
    fn data_keys_are_left_alone() {
        let v = json!({"graph": {"entry": "start_node", "nodes": {"my_node": {"on_pass": "x_y"}}}, "metadata": {"user_id": 1, "nested_map": {"a_b": 1}}});
        let out = inflect(v, Inflection::Camel);
        assert_eq!(
            out,
            json!({"graph": {"entry": "start_node", "nodes": {"my_node": {"onPass": "x_y"}}}, "metadata": {"user_id": 1, "nested_map": {"a_b": 1}}})
        );
    }

    #[test]
    fn parsing_is_strict_about_names() {
        assert_eq!(Inflection::parse("camel"), Some(Inflection::Camel));
        assert_eq!(Inflection::parse("Kebab"), Some(Inflection::Kebab));
        assert_eq!(Inflection::parse("pascal"), None);
    }
}
