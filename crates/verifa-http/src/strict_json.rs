//! Request-body JSON that refuses duplicate object keys. RFC 8259 leaves duplicates to the
//! implementation and serde keeps the last, so `{"name":"a","name":"b"}` would silently store
//! `b` and a graph defining node `t` twice would keep one of them: a request that means two
//! things is refused instead, naming the repeated key's path (`graph.nodes.t`, `steps[0].policy`).
//! A number without a fraction written as a float (`45.0`) is read as the integer it is.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a body is not acceptable JSON.
#[derive(Debug)]
pub enum StrictJsonError {
    /// Not JSON at all (syntax, trailing characters, nesting too deep).
    Syntax(serde_json::Error),
    /// Well-formed, but an object repeats a key; the path of the repeated key.
    DuplicateKey(String),
}

/// Parses `bytes` as one JSON value with no repeated key in any object.
pub fn from_slice(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    let path = RefCell::new(Path::default());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Strict { path: &path }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => match path.into_inner().duplicate {
            Some(at) => Err(StrictJsonError::DuplicateKey(at)),
            None => Err(StrictJsonError::Syntax(e)),
        },
    }
}

/// Where the walk is, kept as segments and rendered only when a duplicate is found.
#[derive(Default)]
struct Path {
    segments: Vec<Segment>,
    duplicate: Option<String>,
}

enum Segment {
    Key(String),
    Index(usize),
}

impl Path {
    fn render(&self, last: &str) -> String {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(last);
        out
    }
}

#[derive(Clone, Copy)]
struct Strict<'p> {
    path: &'p RefCell<Path>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // `45.0` is the integer 45 (JSON has one number type, and JSON Schema's `integer` is any
        // number without a fraction), so integer fields accept it. Beyond 2^53 a float is not
        // exact and stays a float. serde_json never yields a non-finite float from text; Null
        // is the same fallback its own `Value` uses.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if v.fract() == 0.0 && v.abs() < EXACT {
            #[allow(clippy::cast_possible_truncation)] // exact below 2^53
            return Ok(Value::Number((v as i64).into()));
        }
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        loop {
            self.path
                .borrow_mut()
                .segments
                .push(Segment::Index(items.len()));
            let next = seq.next_element_seed(self);
            self.path.borrow_mut().segments.pop();
            match next? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let mut path = self.path.borrow_mut();
                path.duplicate = Some(path.render(&key));
                return Err(de::Error::custom(format_args!("duplicate key '{key}'")));
            }
            self.path
                .borrow_mut()
                .segments
                .push(Segment::Key(key.clone()));
            let value = map.next_value_seed(self);
            self.path.borrow_mut().segments.pop();
            out.insert(key, value?);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str) -> Option<String> {
        match from_slice(text.as_bytes()) {
            Err(StrictJsonError::DuplicateKey(at)) => Some(at),
            _ => None,
        }
    }

    #[test]
    fn names_the_repeated_key_at_any_depth() {
        assert_eq!(
            duplicate(r#"{"name":"a","name":"b"}"#).as_deref(),
            Some("name")
        );
        assert_eq!(
            duplicate(r#"{"graph":{"nodes":{"t":{},"u":{},"t":{}}}}"#).as_deref(),
            Some("graph.nodes.t")
        );
        assert_eq!(
            duplicate(r#"{"steps":[{"policy":"a"},{"policy":"b","policy":"c"}]}"#).as_deref(),
            Some("steps[1].policy")
        );
        assert_eq!(
            duplicate(r#"[[{"k":1,"k":2}]]"#).as_deref(),
            Some("[0][0].k")
        );
    }

    #[test]
    fn keeps_everything_else_as_serde_json_does() {
        let text = r#"{"b":[1,-2,3.5,true,null,"x",{"a":{}}],"a":{"k":1},"k":{"k":2}}"#;
        let strict = from_slice(text.as_bytes()).expect("valid");
        let lax: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, lax);
        // Key order is kept (preserve_order), as in serde_json's own Value.
        assert_eq!(strict.to_string(), lax.to_string());
        // The same key in sibling objects is not a duplicate.
        assert!(from_slice(br#"[{"a":1},{"a":2}]"#).is_ok());
    }

    #[test]
    fn integral_floats_are_integers() {
        let v = from_slice(br#"{"a": 45.0, "b": -0.0, "c": 1.5, "d": 1e300, "e": 3}"#).unwrap();
        assert_eq!(v["a"].as_i64(), Some(45));
        assert_eq!(v["b"].as_i64(), Some(0));
        assert_eq!(v["c"].as_f64(), Some(1.5));
        assert!(v["d"].is_f64(), "too large to be exact");
        assert_eq!(v["e"].as_i64(), Some(3));
    }

    #[test]
    fn syntax_errors_stay_syntax_errors() {
        for bad in [
            "",
            "{",
            r#"{"a":1}x"#,
            "[1,]",
            r#"{"a" 1}"#,
            &"[".repeat(200),
        ] {
            assert!(
                matches!(from_slice(bad.as_bytes()), Err(StrictJsonError::Syntax(_))),
                "{bad:?}"
            );
        }
    }
}
