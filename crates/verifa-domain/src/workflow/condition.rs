//! Condition evaluation (CONTRACT §2.1) over the run context
//! `{checks: {<policy>: {status, <outputs>...}}, extracted_data: {...}, session: {...}}`.
//!
//! Semantics, all total (no errors, no panics):
//! - A field that is missing **or JSON `null`** is "missing": `exists` is false and so is every
//!   other operator (including `!=` and `not_in`).
//! - `>`, `>=`, `<`, `<=` compare numbers only (i64/u64 exactly, otherwise as f64); any other
//!   type is a mismatch → false.
//! - `==` is JSON equality where numbers compare by value (`18 == 18.0`); `!=` is its negation
//!   on a present field (so `"US" != 5` is true — they are indeed different).
//! - `in` / `not_in` need an array literal (else false); membership uses the same equality.
//! - `contains`: substring for string/string, element equality for arrays, else false.
//! - Unknown operators are false.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::model::{Condition, Operator};

/// A JSON run context for evaluating conditions outside a run (the executor resolves fields
/// directly against its state instead of building one of these).
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    root: Value,
}

impl Context {
    /// Wraps a context object.
    pub fn new(root: Value) -> Self {
        Self { root }
    }

    /// Resolves a dotted path (`checks.age_verification.age`, `hits.0.score`).
    pub fn lookup(&self, path: &str) -> Option<&Value> {
        lookup_path(&self.root, path.split('.'))
    }
}

/// Walks `segments` into `root`; numeric segments index arrays.
pub fn lookup_path<'a, 'b>(
    root: &'a Value,
    segments: impl IntoIterator<Item = &'b str>,
) -> Option<&'a Value> {
    let mut cur = root;
    for seg in segments {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Evaluates a condition against a JSON context.
pub fn evaluate(cond: &Condition, ctx: &Context) -> bool {
    matches(&cond.operator, cond.value.as_ref(), ctx.lookup(&cond.field))
}

/// Evaluates an already-resolved field value (`None` = missing).
pub fn evaluate_resolved(cond: &Condition, actual: Option<Cow<'_, Value>>) -> bool {
    matches(&cond.operator, cond.value.as_ref(), actual.as_deref())
}

/// Applies `op` to the field value `actual` and the literal.
pub fn matches(op: &Operator, literal: Option<&Value>, actual: Option<&Value>) -> bool {
    let actual = match actual {
        None | Some(Value::Null) => return false,
        Some(a) => a,
    };
    let null = Value::Null;
    let lit = literal.unwrap_or(&null);
    match op {
        Operator::Exists => true,
        Operator::Gt => num_cmp(actual, lit) == Some(Ordering::Greater),
        Operator::Ge => matches!(
            num_cmp(actual, lit),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        Operator::Lt => num_cmp(actual, lit) == Some(Ordering::Less),
        Operator::Le => matches!(num_cmp(actual, lit), Some(Ordering::Less | Ordering::Equal)),
        Operator::Eq => literal.is_some() && json_eq(actual, lit),
        Operator::Ne => literal.is_some() && !json_eq(actual, lit),
        Operator::In => match lit {
            Value::Array(items) => items.iter().any(|i| json_eq(actual, i)),
            _ => false,
        },
        Operator::NotIn => match lit {
            Value::Array(items) => !items.iter().any(|i| json_eq(actual, i)),
            _ => false,
        },
        Operator::Contains => match (actual, lit) {
            (Value::String(hay), Value::String(needle)) => hay.contains(needle.as_str()),
            (Value::Array(items), _) if literal.is_some() => items.iter().any(|i| json_eq(i, lit)),
            _ => false,
        },
        Operator::Unknown(_) => false,
    }
}

fn num_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y),
        _ => None,
    }
}

/// Compares two JSON numbers: exactly when both are integers, else as f64.
pub fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    // One is a u64 above i64::MAX and the other a negative i64.
    if a.is_u64() && b.as_i64().is_some_and(|y| y < 0) {
        return Some(Ordering::Greater);
    }
    if b.is_u64() && a.as_i64().is_some_and(|x| x < 0) {
        return Some(Ordering::Less);
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// JSON equality with numbers compared by value (`18 == 18.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// True when a field path starts with one of the context roots and has no empty segment.
pub fn is_valid_field_path(path: &str) -> bool {
    let mut segs = path.split('.');
    let root_ok = matches!(segs.next(), Some("checks" | "extracted_data" | "session"));
    let mut rest = 0usize;
    for s in segs {
        if s.is_empty() {
            return false;
        }
        rest += 1;
    }
    root_ok && rest >= 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context::new(json!({
            "checks": {
                "age_verification": {"status": "passed", "age": 30, "passed": true},
                "risk_assessment": {"status": "passed", "risk_score": 42.5, "risk_level": "high"},
                "watchlist_screening": {"status": "passed", "hits": [{"score": 0.9}], "lists": ["ofac", "eu"]}
            },
            "extracted_data": {"full_name": "Jane Doe", "age": 18.0, "big": 18446744073709551615u64,
                               "neg": -5, "nothing": null, "obj": {"a": 1}},
            "session": {"country": "US", "metadata": {"tier": "gold"}, "is_sandbox": false}
        }))
    }

    fn cond(field: &str, op: &str, value: Option<Value>) -> Condition {
        Condition {
            field: field.into(),
            operator: Operator::from(op),
            value,
            next: "x".into(),
        }
    }

    #[test]
    fn operator_table() {
        let cases: Vec<(&str, &str, Option<Value>, bool)> = vec![
            // numeric comparisons, int vs float both ways
            ("checks.age_verification.age", ">=", Some(json!(18)), true),
            ("checks.age_verification.age", ">=", Some(json!(30.0)), true),
            ("checks.age_verification.age", ">", Some(json!(30)), false),
            ("checks.age_verification.age", ">", Some(json!(29.5)), true),
            ("checks.age_verification.age", "<", Some(json!(30.5)), true),
            ("checks.age_verification.age", "<=", Some(json!(30)), true),
            ("checks.age_verification.age", "<=", Some(json!(29)), false),
            (
                "checks.risk_assessment.risk_score",
                "<",
                Some(json!(43)),
                true,
            ),
            ("extracted_data.big", ">", Some(json!(-1)), true),
            (
                "extracted_data.neg",
                "<",
                Some(json!(18446744073709551615u64)),
                true,
            ),
            // type mismatch → false
            ("checks.age_verification.age", ">", Some(json!("10")), false),
            ("session.country", ">", Some(json!("A")), false),
            ("checks.age_verification.age", ">", None, false),
            // equality, numeric by value
            ("extracted_data.age", "==", Some(json!(18)), true),
            ("checks.age_verification.age", "==", Some(json!(30.0)), true),
            ("session.country", "==", Some(json!("US")), true),
            ("session.country", "==", Some(json!("GB")), false),
            ("session.is_sandbox", "==", Some(json!(false)), true),
            ("extracted_data.obj", "==", Some(json!({"a": 1.0})), true),
            ("session.country", "!=", Some(json!("GB")), true),
            ("session.country", "!=", Some(json!("US")), false),
            ("extracted_data.age", "!=", Some(json!(18)), false),
            // in / not_in
            (
                "checks.risk_assessment.risk_level",
                "in",
                Some(json!(["high", "critical"])),
                true,
            ),
            (
                "checks.risk_assessment.risk_level",
                "in",
                Some(json!(["low"])),
                false,
            ),
            (
                "checks.risk_assessment.risk_level",
                "in",
                Some(json!("high")),
                false,
            ),
            (
                "checks.risk_assessment.risk_level",
                "not_in",
                Some(json!(["low"])),
                true,
            ),
            (
                "checks.risk_assessment.risk_level",
                "not_in",
                Some(json!(["high"])),
                false,
            ),
            (
                "checks.risk_assessment.risk_level",
                "not_in",
                Some(json!("low")),
                false,
            ),
            ("extracted_data.age", "in", Some(json!([17, 18])), true),
            // contains
            (
                "extracted_data.full_name",
                "contains",
                Some(json!("Doe")),
                true,
            ),
            (
                "extracted_data.full_name",
                "contains",
                Some(json!("Smith")),
                false,
            ),
            (
                "checks.watchlist_screening.lists",
                "contains",
                Some(json!("eu")),
                true,
            ),
            (
                "checks.watchlist_screening.lists",
                "contains",
                Some(json!("un")),
                false,
            ),
            (
                "checks.watchlist_screening.hits",
                "contains",
                Some(json!({"score": 0.9})),
                true,
            ),
            (
                "checks.age_verification.age",
                "contains",
                Some(json!(3)),
                false,
            ),
            (
                "extracted_data.full_name",
                "contains",
                Some(json!(1)),
                false,
            ),
            // exists, array index path
            ("session.metadata.tier", "exists", None, true),
            ("session.metadata.missing", "exists", None, false),
            ("extracted_data.nothing", "exists", None, false),
            (
                "checks.watchlist_screening.hits.0.score",
                ">=",
                Some(json!(0.6)),
                true,
            ),
            // missing field → false for every operator but exists (incl. != and not_in)
            ("extracted_data.missing", "!=", Some(json!("x")), false),
            (
                "extracted_data.missing",
                "not_in",
                Some(json!(["x"])),
                false,
            ),
            ("extracted_data.missing", "==", Some(json!(null)), false),
            ("extracted_data.nothing", "!=", Some(json!(1)), false),
            (
                "checks.face_match.status",
                "==",
                Some(json!("passed")),
                false,
            ),
            ("extracted_data.missing", "<", Some(json!(1)), false),
            // unknown operator
            ("session.country", "~=", Some(json!("US")), false),
        ];
        let c = ctx();
        for (field, op, value, want) in cases {
            let got = evaluate(&cond(field, op, value.clone()), &c);
            assert_eq!(got, want, "{field} {op} {value:?}");
        }
    }

    #[test]
    fn field_paths() {
        for (p, ok) in [
            ("checks.age.status", true),
            ("extracted_data.dob", true),
            ("session.country", true),
            ("session", false),
            ("checks.", false),
            ("checks..x", false),
            ("metadata.x", false),
            ("", false),
        ] {
            assert_eq!(is_valid_field_path(p), ok, "{p}");
        }
    }
}
