//! An organization's settings per environment (CONTRACT §11.1): retention, PII exposure,
//! document URLs, case review, allowed origins and branding.
//!
//! - this module: [`OrgSettings`] and its defaults;
//! - [`patch`](mod@patch): [`OrgSettings::patch`], applying a `PATCH /settings` body (a field
//!   sent replaces its value, `null` resets it to its default, a field left out stays);
//! - [`field`]: reading one field's value, and what an allowed [`origin`] is.

mod field;
mod patch;

pub use field::origin;

use serde::{Deserialize, Serialize};

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

/// A problem of a patch: the field path and what is wrong.
pub type Problem = (String, String);

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
