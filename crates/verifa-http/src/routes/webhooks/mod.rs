//! The Webhooks group (CONTRACT §5, reference §13.5), mirroring the use cases' rooms:
//!
//! - [`endpoints`]: endpoints, secrets (rotate), clone.
//! - [`deliveries`]: test deliveries, delivery history, manual retries, the event catalogue.

pub mod deliveries;
pub mod endpoints;

use crate::error::{ApiError, FieldErrorBody};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const READ: &str = "webhooks:read";
const WRITE: &str = "webhooks:write";

pub(crate) fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldErrorBody {
        field: field.into(),
        message: message.into(),
    }])
}

/// Routes of the group.
pub fn router() -> OpenApiRouter<AppState> {
    use deliveries::*;
    use endpoints::*;
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(clone_endpoint))
        .routes(routes!(test_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
        .routes(routes!(list_event_types))
}
