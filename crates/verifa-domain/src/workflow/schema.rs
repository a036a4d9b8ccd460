//! A small JSON Schema subset validator for policy configs: `type` (one or a list), `properties`,
//! `required`, `additionalProperties` (bool or schema), `enum`, `minimum`, `maximum`, `minLength`,
//! `maxLength`, `items`, `minItems`, `maxItems`. Unknown keywords are ignored (as JSON Schema
//! does); `pattern` is deliberately not supported. Never panics on any schema or value.

use serde_json::{Map, Value};

use super::condition::json_eq;

/// One schema violation: dotted path of the offending value and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// Path, e.g. `graph.nodes.age.config.minimum_age`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Validates `value` against `schema`, returning every violation; `path` is the value's path.
pub fn check(schema: &Value, value: &Value, path: &str) -> Vec<SchemaError> {
    let mut out = Vec::new();
    walk(schema, value, path, &mut out, 0);
    out
}

/// Nesting limit, so a hostile deeply nested schema cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

fn err(out: &mut Vec<SchemaError>, path: &str, message: String) {
    out.push(SchemaError {
        path: path.to_owned(),
        message,
    });
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(v: &Value, ty: &str) -> bool {
    match (ty, v) {
        ("integer", Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        ("number", Value::Number(_)) => true,
        ("string", Value::String(_)) => true,
        ("boolean", Value::Bool(_)) => true,
        ("object", Value::Object(_)) => true,
        ("array", Value::Array(_)) => true,
        ("null", Value::Null) => true,
        _ => false,
    }
}

fn walk(schema: &Value, value: &Value, path: &str, out: &mut Vec<SchemaError>, depth: usize) {
    let s: &Map<String, Value> = match schema {
        Value::Bool(false) => return err(out, path, "no value is allowed here".into()),
        Value::Object(s) => s,
        _ => return, // `true` or a malformed schema: accept
    };
    if depth > MAX_DEPTH {
        return err(out, path, "schema nesting too deep".into());
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| has_type(value, t)) {
            // A type mismatch makes the other keywords meaningless; stop here.
            return err(
                out,
                path,
                format!(
                    "must be of type {}, got {}",
                    types.join(" or "),
                    type_name(value)
                ),
            );
        }
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.iter().any(|o| json_eq(o, value))
    {
        let list: Vec<String> = options.iter().map(Value::to_string).collect();
        err(out, path, format!("must be one of {}", list.join(", ")));
    }
    if let Value::Number(n) = value
        && let Some(x) = n.as_f64()
    {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64)
            && x < min
        {
            err(out, path, format!("must be ≥ {min}"));
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64)
            && x > max
        {
            err(out, path, format!("must be ≤ {max}"));
        }
    }
    if let Value::String(text) = value {
        let len = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            err(out, path, format!("must be at least {min} characters"));
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            err(out, path, format!("must be at most {max} characters"));
        }
    }
    if let Value::Array(items) = value {
        let len = items.len() as u64;
        if let Some(min) = s.get("minItems").and_then(Value::as_u64)
            && len < min
        {
            err(out, path, format!("must have at least {min} items"));
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
            && len > max
        {
            err(out, path, format!("must have at most {max} items"));
        }
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                walk(item_schema, item, &format!("{path}[{i}]"), out, depth + 1);
            }
        }
    }
    if let Value::Object(obj) = value {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = s.get("required") {
            for key in required.iter().filter_map(Value::as_str) {
                if !obj.contains_key(key) {
                    err(out, &format!("{path}.{key}"), "is required".into());
                }
            }
        }
        for (key, v) in obj {
            let child = format!("{path}.{key}");
            match props.and_then(|p| p.get(key)) {
                Some(ps) => walk(ps, v, &child, out, depth + 1),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => err(out, &child, "unknown property".into()),
                    Some(extra @ Value::Object(_)) => walk(extra, v, &child, out, depth + 1),
                    _ => {}
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(schema: Value, value: Value) -> Vec<String> {
        check(&schema, &value, "c")
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    #[test]
    fn keyword_table() {
        let obj = json!({"type": "object", "additionalProperties": false,
            "required": ["minimum_age"],
            "properties": {
                "minimum_age": {"type": "integer", "minimum": 0, "maximum": 150},
                "level": {"enum": ["standard", "strict"]},
                "name": {"type": "string", "minLength": 2, "maxLength": 4},
                "ids": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                "threshold": {"type": ["number", "null"]}}});
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({"minimum_age": 18}), vec![]),
            (json!({"minimum_age": 18.0}), vec![]),
            (json!({}), vec!["c.minimum_age"]),
            (json!({"minimum_age": "18"}), vec!["c.minimum_age"]),
            (json!({"minimum_age": 18.5}), vec!["c.minimum_age"]),
            (json!({"minimum_age": -1}), vec!["c.minimum_age"]),
            (json!({"minimum_age": 151}), vec!["c.minimum_age"]),
            (json!({"minimum_age": 1, "x": 1}), vec!["c.x"]),
            (json!({"minimum_age": 1, "level": "lax"}), vec!["c.level"]),
            (json!({"minimum_age": 1, "name": "a"}), vec!["c.name"]),
            (json!({"minimum_age": 1, "name": "abcde"}), vec!["c.name"]),
            (json!({"minimum_age": 1, "ids": []}), vec!["c.ids"]),
            (
                json!({"minimum_age": 1, "ids": ["a", "b", "c"]}),
                vec!["c.ids"],
            ),
            (json!({"minimum_age": 1, "ids": ["a", 2]}), vec!["c.ids[1]"]),
            (json!({"minimum_age": 1, "threshold": null}), vec![]),
            (
                json!({"minimum_age": 1, "threshold": true}),
                vec!["c.threshold"],
            ),
            (json!([]), vec!["c"]),
        ];
        for (value, want) in cases {
            assert_eq!(paths(obj.clone(), value.clone()), want, "value {value}");
        }
    }

    #[test]
    fn boolean_and_odd_schemas_do_not_panic() {
        assert!(check(&json!(true), &json!(1), "c").is_empty());
        assert_eq!(check(&json!(false), &json!(1), "c").len(), 1);
        assert!(check(&json!(42), &json!({"a": 1}), "c").is_empty());
        assert!(check(&json!({"type": 7, "minimum": "x"}), &json!(1), "c").is_empty());
    }
}
