//! [`OrgSettings::patch`]: a `PATCH /settings` body applied. `branding` is patched field by
//! field like the top level. Every problem is reported with its field path, and nothing changes
//! unless the whole patch is valid.

use super::field::Field;
use super::{Branding, DualReview, OrgSettings, Problem};
use super::{
    CASE_SLA_HOURS, IMAGE_URL_EXPIRY_SECONDS, LOCALES, MAX_DISPLAY_NAME_LEN, MAX_RETENTION_DAYS,
};
use serde_json::{Map, Value};

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
}
