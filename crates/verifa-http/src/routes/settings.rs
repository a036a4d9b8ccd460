//! `GET/PATCH /settings` (CONTRACT §11.1): the caller's organization settings for its
//! environment. Reads need `settings:read`, changes `settings:write`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::openapi::schemas;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verifa_domain::settings::{Branding, DualReview};
use verifa_ports::settings::StoredSettings;

/// The routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, update_settings))
}

/// The hosted pages' branding.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrandingObject {
    /// Shown instead of the organization's name.
    pub display_name: Option<String>,
    /// An `https` image URL.
    pub logo_url: Option<String>,
    /// `#rrggbb`.
    pub primary_color: String,
    /// `en`, `de`, `fr` or `es`.
    pub default_locale: String,
}

/// The organization's settings in this environment.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsObject {
    /// Days after a session ends before its data is deleted (`null`: kept until redacted).
    pub data_retention_days: Option<u32>,
    /// Days after a session ends before its PII and images are no longer served.
    pub sensitive_data_retention_days: Option<u32>,
    /// Whether expired sessions are redacted by the retention sweeper.
    pub auto_redact_on_retention_expiry: bool,
    /// The `extracted_data` keys the API returns (`null`: all).
    pub api_pii_fields: Option<Vec<String>>,
    /// Lifetime of signed document URLs.
    pub image_url_expiry_seconds: u32,
    /// Hours until a case's SLA is due.
    pub case_sla_hours: u32,
    /// `off` or `all`.
    pub case_dual_review: String,
    /// Origins allowed to frame the capture flow, message the SDK and call MCP.
    pub allowed_origins: Vec<String>,
    /// Last change (`null` while every setting has its default).
    pub updated_at: Option<DateTime<Utc>>,
    /// Branding.
    pub branding: BrandingObject,
}

impl From<StoredSettings> for SettingsObject {
    fn from(stored: StoredSettings) -> Self {
        let s = stored.settings;
        let Branding {
            display_name,
            logo_url,
            primary_color,
            default_locale,
        } = s.branding;
        Self {
            data_retention_days: s.data_retention_days,
            sensitive_data_retention_days: s.sensitive_data_retention_days,
            auto_redact_on_retention_expiry: s.auto_redact_on_retention_expiry,
            api_pii_fields: s.api_pii_fields,
            image_url_expiry_seconds: s.image_url_expiry_seconds,
            case_sla_hours: s.case_sla_hours,
            case_dual_review: DualReview::as_str(s.case_dual_review).to_owned(),
            allowed_origins: s.allowed_origins,
            updated_at: stored.updated_at,
            branding: BrandingObject {
                display_name,
                logo_url,
                primary_color,
                default_locale,
            },
        }
    }
}

/// Branding fields to change; `null` resets one to its default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingPatch {
    /// At most 100 characters.
    #[schema(schema_with = schemas::text_or_null_max_100)]
    pub display_name: Option<Value>,
    /// An `https` URL of at most 2 000 characters.
    #[schema(schema_with = schemas::https_url_or_null)]
    pub logo_url: Option<Value>,
    /// `#RRGGBB`.
    #[schema(schema_with = schemas::color_or_null)]
    pub primary_color: Option<Value>,
    /// `en`, `de`, `fr` or `es`.
    #[schema(schema_with = schemas::locale_or_null)]
    pub default_locale: Option<Value>,
}

/// Body of `PATCH /settings`: a field sent replaces it, `null` resets it to its default, a
/// field left out stays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// 1–3 650 days, or `null` (kept until redacted).
    #[schema(schema_with = schemas::retention_days_or_null)]
    pub data_retention_days: Option<Value>,
    /// 0–3 650 days, at most `data_retention_days`, or `null`.
    #[schema(schema_with = schemas::sensitive_days_or_null)]
    pub sensitive_data_retention_days: Option<Value>,
    /// Whether the retention sweeper redacts expired sessions.
    #[schema(value_type = Option<bool>)]
    pub auto_redact_on_retention_expiry: Option<Value>,
    /// A subset of the `extracted_data` keys, or `null` (all).
    #[schema(schema_with = schemas::pii_fields_or_null)]
    pub api_pii_fields: Option<Value>,
    /// 30–86 400 seconds.
    #[schema(schema_with = schemas::url_expiry_or_null)]
    pub image_url_expiry_seconds: Option<Value>,
    /// 1–720 hours.
    #[schema(schema_with = schemas::sla_hours_or_null)]
    pub case_sla_hours: Option<Value>,
    /// `off` or `all`.
    #[schema(schema_with = schemas::dual_review_or_null)]
    pub case_dual_review: Option<Value>,
    /// At most 20 origins `https://host[:port]` (http for localhost only).
    #[schema(schema_with = schemas::origins_or_null)]
    pub allowed_origins: Option<Value>,
    /// Branding fields to change, or `null` to reset them all.
    #[schema(value_type = Option<BrandingPatch>)]
    pub branding: Option<Value>,
}

/// The settings of the caller's organization and environment.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("api_key" = [])), responses(
    (status = 200, body = SettingsObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<SettingsObject>> {
    let caller = auth.require("settings:read")?;
    let stored = state.services.settings.get(caller).await?;
    Ok(Json(stored.into()))
}

/// Changes settings (partial; `null` resets a field to its default).
#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", request_body = SettingsPatch, security(("api_key" = [])), responses(
    (status = 200, body = SettingsObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_settings(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<SettingsObject>> {
    let caller = auth.require("settings:write")?;
    let stored = state.services.settings.patch(caller, &body).await?;
    Ok(Json(stored.into()))
}
