//! Reading one field of a settings patch ([`Field`]): `null` reads as `None` (the default), a
//! wrong value is a problem with the field's path and also reads as `None`; and what an
//! allowed [`origin`] is.

use super::{MAX_ALLOWED_ORIGINS, MAX_LOGO_URL_LEN, PII_FIELDS, Problem};
use serde_json::Value;

/// One field being read: its path and where its problems go.
pub(super) struct Field<'a> {
    pub(super) path: String,
    pub(super) problems: &'a mut Vec<Problem>,
}

impl Field<'_> {
    pub(super) fn problem(&mut self, message: impl Into<String>) {
        self.problems.push((self.path.clone(), message.into()));
    }

    pub(super) fn optional_int(&mut self, value: &Value, lo: u32, hi: u32) -> Option<u32> {
        if value.is_null() {
            return None;
        }
        let n = value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (lo..=hi).contains(n));
        if n.is_none() {
            self.problem(format!("must be an integer from {lo} to {hi}, or null"));
        }
        n
    }

    pub(super) fn bool(&mut self, value: &Value) -> Option<bool> {
        match value {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            _ => {
                self.problem("must be true, false or null");
                None
            }
        }
    }

    pub(super) fn one_of(&mut self, value: &Value, allowed: &[&str]) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) if allowed.contains(&s.as_str()) => Some(s.clone()),
            _ => {
                self.problem(format!("must be one of {}, or null", allowed.join(", ")));
                None
            }
        }
    }

    pub(super) fn optional_text(&mut self, value: &Value, max: usize) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) if s.chars().count() <= max && !s.chars().any(char::is_control) => {
                Some(s.trim().to_owned())
            }
            _ => {
                self.problem(format!(
                    "must be text of at most {max} characters without control characters, or null"
                ));
                None
            }
        }
    }

    pub(super) fn logo_url(&mut self, value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s)
                if s.len() <= MAX_LOGO_URL_LEN
                    && url::Url::parse(s)
                        .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some()) =>
            {
                Some(s.clone())
            }
            _ => {
                self.problem(format!(
                    "must be an https URL of at most {MAX_LOGO_URL_LEN} characters, or null"
                ));
                None
            }
        }
    }

    pub(super) fn color(&mut self, value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s)
                if s.len() == 7
                    && s.strip_prefix('#')
                        .is_some_and(|hex| hex.chars().all(|c| c.is_ascii_hexdigit())) =>
            {
                Some(s.to_ascii_lowercase())
            }
            _ => {
                self.problem("must be a colour #RRGGBB, or null");
                None
            }
        }
    }

    pub(super) fn pii_fields(&mut self, value: &Value) -> Option<Vec<String>> {
        let items = match value {
            Value::Null => return None,
            Value::Array(items) => items,
            _ => {
                self.problem("must be a list of extracted_data keys, or null");
                return None;
            }
        };
        let mut fields: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(f) if PII_FIELDS.contains(&f) => {
                    if !fields.iter().any(|x| x == f) {
                        fields.push(f.to_owned());
                    }
                }
                _ => self.problems.push((
                    format!("{}[{i}]", self.path),
                    format!("must be one of {}", PII_FIELDS.join(", ")),
                )),
            }
        }
        Some(fields)
    }

    pub(super) fn origins(&mut self, value: &Value) -> Vec<String> {
        let items = match value {
            Value::Null => return Vec::new(),
            Value::Array(items) if items.len() <= MAX_ALLOWED_ORIGINS => items,
            _ => {
                self.problem(format!(
                    "must be a list of at most {MAX_ALLOWED_ORIGINS} origins, or null"
                ));
                return Vec::new();
            }
        };
        let mut origins: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str().and_then(origin) {
                Some(o) => {
                    if !origins.contains(&o) {
                        origins.push(o);
                    }
                }
                None => self.problems.push((
                    format!("{}[{i}]", self.path),
                    "must be an origin https://host[:port] (http only for localhost)".into(),
                )),
            }
        }
        origins
    }
}

/// The normalised origin of `raw` (`scheme://host[:port]`, lowercase), if it is one: https, or
/// http on a loopback host; no user, path, query or fragment.
pub fn origin(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    let host = url.host_str()?;
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    let bare = url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.path() == "/"
        && !raw.trim_end_matches('/').ends_with('?');
    if !scheme_ok || !bare {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    (origin != "null").then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_bare_and_https_except_on_loopback() {
        assert_eq!(
            origin("https://a.example:8443").as_deref(),
            Some("https://a.example:8443")
        );
        assert_eq!(
            origin("http://127.0.0.1:9000").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        for bad in [
            "http://a.example",
            "https://a.example/x",
            "https://a.example?x=1",
            "https://user@a.example",
            "ftp://a.example",
            "a.example",
            "https://",
        ] {
            assert_eq!(origin(bad), None, "{bad}");
        }
    }
}
