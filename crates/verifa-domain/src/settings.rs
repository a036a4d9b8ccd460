//! An organization's settings per environment (CONTRACT §11.1): retention, PII exposure,
//! document URLs, case review, allowed origins and branding.
//!
//! [`OrgSettings::patch`] applies a `PATCH /settings` body: a field sent replaces its value,
//! `null` resets it to its default, a field left out stays; `branding` is patched field by
//! field the same way. Every problem is reported with its field path, and nothing changes
//! unless the whole patch is valid.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The longest retention, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3_650;
/// The shortest and longest signed-URL lifetime, in seconds.
pub const IMAGE_URL_EXPIRY_SECONDS: (u32, u32) = (30, 86_400);
/// The shortest and longest case SLA, in hours.
pub const CASE_SLA_HOURS: (u32, u32) = (1, 720);
/// The most allowed origins.
pub const MAX_ALLOWED_ORIGINS: usize = 20;
/// The longest display name.
pub const MAX_DISPLAY_NAME_LEN: usize = 100;
/// The longest logo URL.
pub const MAX_LOGO_URL_LEN: usize = 2_000;
/// The `extracted_data` keys `api_pii_fields` may name (reference §14.1).
pub const PII_FIELDS: [&str; 11] = [
    "first_name",
    "last_name",
    "date_of_birth",
    "address",
    "document_number",
    "nationality",
    "gender",
    "ssn",
    "document_type",
    "document_expiration_date",
    "document_issuing_state",
];
/// The capture flow's languages.
pub const LOCALES: [&str; 4] = ["en", "de", "fr", "es"];

/// Who reviews a case twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DualReview {
    /// Only cases marked by hand or by escalation.
    #[default]
    Off,
    /// Every case.
    All,
}

impl DualReview {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DualReview::Off => "off",
            DualReview::All => "all",
        }
    }
}

/// What the hosted pages show of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    /// Shown instead of the organization's name.
    pub display_name: Option<String>,
    /// An `https` image URL.
    pub logo_url: Option<String>,
    /// `#RRGGBB`.
    pub primary_color: String,
    /// `en`, `de`, `fr` or `es`.
    pub default_locale: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            display_name: None,
            logo_url: None,
            primary_color: "#1f4fd1".into(),
            default_locale: "en".into(),
        }
    }
}

/// The settings of one organization and environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgSettings {
    /// Days after a session ends before its data is deleted (`None`: kept until redacted).
    pub data_retention_days: Option<u32>,
    /// Days after a session ends before its PII and images are no longer served.
    pub sensitive_data_retention_days: Option<u32>,
    /// Whether the retention sweeper redacts expired sessions.
    pub auto_redact_on_retention_expiry: bool,
    /// The `extracted_data` keys the API returns (`None`: all).
    pub api_pii_fields: Option<Vec<String>>,
    /// Lifetime of signed document URLs.
    pub image_url_expiry_seconds: u32,
    /// Hours until a case's SLA is due.
    pub case_sla_hours: u32,
    /// Which cases need two reviewers.
    pub case_dual_review: DualReview,
    /// Origins that may frame the capture flow, message the SDK and call MCP.
    pub allowed_origins: Vec<String>,
    /// Hosted pages' branding.
    pub branding: Branding,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            data_retention_days: None,
            sensitive_data_retention_days: None,
            auto_redact_on_retention_expiry: false,
            api_pii_fields: None,
            image_url_expiry_seconds: 300,
            case_sla_hours: 24,
            case_dual_review: DualReview::Off,
            allowed_origins: Vec::new(),
            branding: Branding::default(),
        }
    }
}

/// A problem of a patch: the field path and what is wrong.
pub type Problem = (String, String);

impl OrgSettings {
    /// Applies a `PATCH /settings` body; returns the paths of the fields that changed.
    ///
    /// # Errors
    /// Every problem found, each with its field path; the settings are then unchanged.
    pub fn patch(&mut self, body: &Map<String, Value>) -> Result<Vec<String>, Vec<Problem>> {
        let defaults = OrgSettings::default();
        let mut next = self.clone();
        let mut problems = Vec::new();
        for (key, value) in body {
            let mut p = Field {
                path: key.clone(),
                problems: &mut problems,
            };
            match key.as_str() {
                "data_retention_days" => {
                    next.data_retention_days = p.optional_int(value, 1, MAX_RETENTION_DAYS);
                }
                "sensitive_data_retention_days" => {
                    next.sensitive_data_retention_days =
                        p.optional_int(value, 0, MAX_RETENTION_DAYS);
                }
                "auto_redact_on_retention_expiry" => {
                    next.auto_redact_on_retention_expiry = p
                        .bool(value)
                        .unwrap_or(defaults.auto_redact_on_retention_expiry);
                }
                "api_pii_fields" => next.api_pii_fields = p.pii_fields(value),
                "image_url_expiry_seconds" => {
                    let (lo, hi) = IMAGE_URL_EXPIRY_SECONDS;
                    next.image_url_expiry_seconds = p
                        .optional_int(value, lo, hi)
                        .unwrap_or(defaults.image_url_expiry_seconds);
                }
                "case_sla_hours" => {
                    let (lo, hi) = CASE_SLA_HOURS;
                    next.case_sla_hours = p
                        .optional_int(value, lo, hi)
                        .unwrap_or(defaults.case_sla_hours);
                }
                "case_dual_review" => {
                    next.case_dual_review = match p.one_of(value, &["off", "all"]).as_deref() {
                        Some("all") => DualReview::All,
                        _ => DualReview::Off,
                    };
                }
                "allowed_origins" => next.allowed_origins = p.origins(value),
                "branding" => match value {
                    Value::Null => next.branding = Branding::default(),
                    Value::Object(b) => patch_branding(&mut next.branding, b, &mut problems),
                    _ => p.problem("must be an object or null"),
                },
                _ => p.problem("is not a setting"),
            }
        }
        if let (Some(sensitive), Some(all)) =
            (next.sensitive_data_retention_days, next.data_retention_days)
            && sensitive > all
        {
            problems.push((
                "sensitive_data_retention_days".into(),
                format!("must be at most data_retention_days ({all})"),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let changed = changed_paths(self, &next);
        *self = next;
        Ok(changed)
    }
}

fn patch_branding(branding: &mut Branding, body: &Map<String, Value>, problems: &mut Vec<Problem>) {
    let defaults = Branding::default();
    for (key, value) in body {
        let mut p = Field {
            path: format!("branding.{key}"),
            problems,
        };
        match key.as_str() {
            "display_name" => {
                branding.display_name = p.optional_text(value, MAX_DISPLAY_NAME_LEN);
            }
            "logo_url" => branding.logo_url = p.logo_url(value),
            "primary_color" => {
                branding.primary_color = p.color(value).unwrap_or(defaults.primary_color.clone());
            }
            "default_locale" => {
                branding.default_locale = p
                    .one_of(value, &LOCALES)
                    .unwrap_or(defaults.default_locale.clone());
            }
            _ => p.problem("is not a branding setting"),
        }
    }
}

/// The top-level paths (and `branding.*`) whose values differ.
fn changed_paths(before: &OrgSettings, after: &OrgSettings) -> Vec<String> {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    for (key, old) in &a {
        let new = b.get(key).unwrap_or(&Value::Null);
        match (old, new) {
            (Value::Object(o), Value::Object(n)) => {
                for (sub, v) in o {
                    if n.get(sub) != Some(v) {
                        changed.push(format!("{key}.{sub}"));
                    }
                }
            }
            _ if old != new => changed.push(key.clone()),
            _ => {}
        }
    }
    changed
}

/// One field being read: its path and where its problems go. `null` reads as `None`
/// (the default); a wrong value is a problem and also reads as `None`.
struct Field<'a> {
    path: String,
    problems: &'a mut Vec<Problem>,
}

impl Field<'_> {
    fn problem(&mut self, message: impl Into<String>) {
        self.problems.push((self.path.clone(), message.into()));
    }

    fn optional_int(&mut self, value: &Value, lo: u32, hi: u32) -> Option<u32> {
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

    fn bool(&mut self, value: &Value) -> Option<bool> {
        match value {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            _ => {
                self.problem("must be true, false or null");
                None
            }
        }
    }

    fn one_of(&mut self, value: &Value, allowed: &[&str]) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) if allowed.contains(&s.as_str()) => Some(s.clone()),
            _ => {
                self.problem(format!("must be one of {}, or null", allowed.join(", ")));
                None
            }
        }
    }

    fn optional_text(&mut self, value: &Value, max: usize) -> Option<String> {
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

    fn logo_url(&mut self, value: &Value) -> Option<String> {
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

    fn color(&mut self, value: &Value) -> Option<String> {
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

    fn pii_fields(&mut self, value: &Value) -> Option<Vec<String>> {
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

    fn origins(&mut self, value: &Value) -> Vec<String> {
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
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|(p, _)| p.as_str()).collect()
    }

    #[test]
    fn the_defaults_are_the_contracts() {
        let s = OrgSettings::default();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            json!({"data_retention_days": null, "sensitive_data_retention_days": null,
                   "auto_redact_on_retention_expiry": false, "api_pii_fields": null,
                   "image_url_expiry_seconds": 300, "case_sla_hours": 24,
                   "case_dual_review": "off", "allowed_origins": [],
                   "branding": {"display_name": null, "logo_url": null,
                                "primary_color": "#1f4fd1", "default_locale": "en"}})
        );
    }

    #[test]
    fn a_patch_sets_resets_and_names_what_changed() {
        let mut s = OrgSettings::default();
        let changed = s
            .patch(&body(json!({"data_retention_days": 365, "sensitive_data_retention_days": 30,
                "case_dual_review": "all", "branding": {"primary_color": "#AA00ff"},
                "allowed_origins": ["https://Shop.Example.com", "http://localhost:3000", "https://shop.example.com/"]})))
            .unwrap();
        assert_eq!(
            changed,
            [
                "data_retention_days",
                "sensitive_data_retention_days",
                "case_dual_review",
                "allowed_origins",
                "branding.primary_color"
            ]
        );
        assert_eq!(s.branding.primary_color, "#aa00ff");
        assert_eq!(
            s.allowed_origins,
            ["https://shop.example.com", "http://localhost:3000"]
        );
        assert_eq!(s.case_dual_review, DualReview::All);
        let changed = s
            .patch(&body(
                json!({"case_dual_review": null, "branding": null, "case_sla_hours": 24}),
            ))
            .unwrap();
        assert_eq!(changed, ["case_dual_review", "branding.primary_color"]);
        assert_eq!(s.branding, Branding::default());
        assert_eq!(s.patch(&body(json!({}))).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn every_problem_is_named_and_nothing_changes() {
        let mut s = OrgSettings::default();
        let before = s.clone();
        let problems = s
            .patch(&body(json!({
                "data_retention_days": 0, "image_url_expiry_seconds": 10,
                "case_sla_hours": 721, "case_dual_review": "some",
                "api_pii_fields": ["first_name", "iban"], "allowed_origins": ["http://shop.example.com", "https://a.example/path"],
                "branding": {"logo_url": "http://logo.example/x.png", "primary_color": "blue",
                             "default_locale": "it", "display_name": "x".repeat(101), "font": "serif"},
                "colour": "red", "auto_redact_on_retention_expiry": "yes"})))
            .unwrap_err();
        let mut got = paths(&problems);
        got.sort_unstable();
        assert_eq!(
            got,
            [
                "allowed_origins[0]",
                "allowed_origins[1]",
                "api_pii_fields[1]",
                "auto_redact_on_retention_expiry",
                "branding.default_locale",
                "branding.display_name",
                "branding.font",
                "branding.logo_url",
                "branding.primary_color",
                "case_dual_review",
                "case_sla_hours",
                "colour",
                "data_retention_days",
                "image_url_expiry_seconds"
            ]
        );
        assert_eq!(s, before);
    }

    #[test]
    fn the_sensitive_window_fits_in_the_retention() {
        let mut s = OrgSettings::default();
        let e = s
            .patch(&body(
                json!({"data_retention_days": 30, "sensitive_data_retention_days": 31}),
            ))
            .unwrap_err();
        assert_eq!(paths(&e), ["sensitive_data_retention_days"]);
        s.patch(&body(
            json!({"data_retention_days": 30, "sensitive_data_retention_days": 0}),
        ))
        .unwrap();
        let e = s.patch(&body(
            json!({"data_retention_days": 7, "sensitive_data_retention_days": 8}),
        ));
        assert!(e.is_err());
        assert!(
            s.patch(&body(json!({"data_retention_days": null}))).is_ok(),
            "kept forever"
        );
    }

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
