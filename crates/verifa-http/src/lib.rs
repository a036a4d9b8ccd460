//! The HTTP layer of Verifa: axum router, extractors, DTOs, error mapping, middleware and the
//! generated OpenAPI document. It depends on the use cases (`verifa-app`) and the port traits,
//! never on adapters; the composition root hands it an [`AppState`].

pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod strict_json;
pub mod versioning;
pub mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use error::ApiError;
use tower::ServiceBuilder;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use state::{AppState, HttpSettings, RateLimits, Services, VersionPolicy};

/// Multipart document uploads: 10 MiB files plus framing.
pub(crate) const DOCUMENT_BODY_LIMIT: usize = 10 * 1024 * 1024 + 64 * 1024;

/// Gives one route group its own body limit (the innermost limit wins).
pub(crate) fn with_body_limit(
    (schemas, paths, router): utoipa_axum::router::UtoipaMethodRouter<AppState>,
    limit: usize,
) -> utoipa_axum::router::UtoipaMethodRouter<AppState> {
    (schemas, paths, router.layer(DefaultBodyLimit::max(limit)))
}

/// Routes that need an API key.
fn api_routes() -> OpenApiRouter<AppState> {
    use routes::{api_keys, rate_limits};
    OpenApiRouter::new()
        .merge(routes::webhooks::router())
        .merge(routes::sessions::router())
        .merge(routes::workflows::router())
        .merge(routes::org_users::router())
        .merge(routes::events::router())
        .merge(routes::identities::router())
        .merge(routes::cases::router())
        .merge(routes::identity_types::router())
        .merge(routes::settings::router())
        .routes(routes!(api_keys::list_api_keys, api_keys::create_api_key))
        .routes(routes!(api_keys::get_api_key, api_keys::update_api_key))
        .routes(routes!(api_keys::expire_api_key))
        .routes(routes!(api_keys::clone_api_key))
        .routes(routes!(rate_limits::get_rate_limits))
}

/// Routes open to anyone (operations, documentation, signed links).
fn public_routes() -> OpenApiRouter<AppState> {
    use routes::{docs, health};
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(docs::openapi_json))
        .routes(routes!(docs::docs_page))
        .routes(routes!(routes::sessions::links::capture_page))
        // Authenticated by the link's signature, not an API key.
        .routes(routes!(routes::sessions::downloads::download_document))
}

/// Builds the router and the OpenAPI document it serves (as JSON).
pub fn build(state: AppState) -> (Router, serde_json::Value) {
    use middleware::{auth, idempotency, rate_limit, request_context, shaping, version};
    let api_stack = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            version::version,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency,
        ))
        .layer(axum::middleware::from_fn(shaping::shape));
    let (router, generated) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api_routes().route_layer(api_stack))
        .merge(public_routes())
        .split_for_parts();
    let document = openapi::finish(
        &generated,
        &openapi::DocumentSettings {
            versions: state.settings.versions.known.clone(),
            http_webhooks: state.services.webhooks.settings().allow_private_networks,
        },
    );
    let spec = document.value.as_ref().clone();
    let router = router
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "No route matches this path.",
            )
            .into_response()
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This method is not allowed on this path.",
            )
            .into_response()
        })
        .layer(axum::Extension(document))
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(axum::middleware::from_fn(wire::answer_refusals))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_context::request_context,
        ))
        .with_state(state);
    (router, spec)
}

/// Builds just the router.
pub fn router(state: AppState) -> Router {
    build(state).0
}
