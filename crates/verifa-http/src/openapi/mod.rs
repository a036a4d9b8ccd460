//! The OpenAPI document: generated from the handlers' annotations and the DTOs' types
//! ([`ApiDoc`] is its skeleton), then completed with what the middleware does to every
//! operation ([`cross_cutting`]). Served as `/api/v1/openapi.json` and rendered at `/docs`.

pub mod cross_cutting;
pub mod schemas;

use std::sync::Arc;

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

use crate::routes::docs::ApiDocument;
use crate::{error, versioning};

/// The document skeleton; paths come from the routed handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Verifa API", description = "Self-hostable identity verification (KYC/AML) API compatible with Verifa."),
    components(schemas(error::ErrorBody, error::FieldErrorBody)),
    modifiers(&SecurityAddon),
    tags((name = "api-keys", description = "API keys and rate limits"), (name = "workflows", description = "Workflows, versions, drafts, rollout, dry-runs and analytics"), (name = "sessions", description = "Verification sessions, documents, results and workflow runs"), (name = "webhooks", description = "Webhook endpoints, signing secrets, test deliveries, event types and delivery history"), (name = "org-users", description = "Organization users: reviewers and console users"), (name = "events", description = "The audit trail and the verification of its hash chain"), (name = "cases", description = "Manual-review cases: the queue, claims, decisions, dual review, escalation and notes"), (name = "identities", description = "Identities (one person per external reference), their sessions, tags, merges and identity types"), (name = "settings", description = "Organization settings: retention, PII exposure, document URLs, case review, allowed origins and branding"), (name = "operations", description = "Health, metrics and documentation"))
)]
pub struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        openapi.info.version = versioning::CURRENT.to_owned();
    }
}

/// What the finished document depends on besides the code: configuration.
#[derive(Debug, Clone)]
pub struct DocumentSettings {
    /// API versions the server accepts.
    pub versions: Vec<String>,
    /// `webhooks.allow_private_networks`: `http://` webhook URLs are accepted too.
    pub http_webhooks: bool,
}

/// The finished document of a generated one.
pub fn finish(generated: &utoipa::openapi::OpenApi, settings: &DocumentSettings) -> ApiDocument {
    let mut value = serde_json::to_value(generated).unwrap_or_default();
    cross_cutting::complete(&mut value, &settings.versions);
    configure(&mut value, settings);
    ApiDocument {
        json: Arc::new(value.to_string()),
        value: Arc::new(value),
    }
}

/// Replaces the placeholders [`schemas`] leaves for what configuration decides: the accepted API
/// versions ([`schemas::API_VERSION_FORMAT`]) and the webhook URL scheme
/// ([`schemas::WEBHOOK_URL_FORMAT`]).
fn configure(value: &mut serde_json::Value, settings: &DocumentSettings) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            match map.get("format").and_then(Value::as_str) {
                Some(schemas::API_VERSION_FORMAT) => {
                    map.remove("format");
                    let mut names: Vec<Value> = settings
                        .versions
                        .iter()
                        .cloned()
                        .map(Value::String)
                        .collect();
                    let nullable = map
                        .get("type")
                        .and_then(Value::as_array)
                        .is_some_and(|t| t.iter().any(|t| t == "null"));
                    if nullable {
                        names.push(Value::Null);
                    }
                    map.insert("enum".into(), Value::Array(names));
                }
                Some(schemas::WEBHOOK_URL_FORMAT) => {
                    map.remove("format");
                    let scheme = if settings.http_webhooks {
                        "https?"
                    } else {
                        "https"
                    };
                    map.insert(
                        "pattern".into(),
                        Value::String(format!(r"^\s*{scheme}://[^/?#\s@]+")),
                    );
                }
                _ => {}
            }
            for v in map.values_mut() {
                configure(v, settings);
            }
        }
        Value::Array(items) => {
            for v in items {
                configure(v, settings);
            }
        }
        _ => {}
    }
}
