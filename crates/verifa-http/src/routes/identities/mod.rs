//! The identities group (CONTRACT §7.2): reads in [`reads`], search in [`search`], changes in
//! [`writes`], merges in [`merge`], erasure in [`erasure`], the export in [`export`], the object in [`objects`]; identity types live in `routes::identity_types`. `{id}`
//! is an `idn_…` id or an `external_ref`. Reads need `identities:read`, writes
//! `identities:write`.

pub mod erasure;
pub mod export;
pub mod merge;
pub mod objects;
pub mod reads;
pub mod search;
pub mod writes;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) const READ: &str = "identities:read";
pub(crate) const WRITE: &str = "identities:write";

/// The routes of the group.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reads::list_identities, writes::create_identity))
        .routes(routes!(
            reads::get_identity,
            writes::update_identity,
            erasure::redact_identity
        ))
        .routes(routes!(search::search_identities))
        .routes(routes!(reads::list_identity_sessions))
        .routes(routes!(export::export_identity))
        .routes(routes!(reads::identity_audit_log))
        .routes(routes!(
            writes::add_identity_tag,
            writes::replace_identity_tags
        ))
        .routes(routes!(writes::remove_identity_tag))
        .routes(routes!(writes::archive_identity))
        .routes(routes!(writes::restore_identity))
        .routes(routes!(writes::flag_identity))
        .routes(routes!(writes::unflag_identity))
        .routes(routes!(writes::pause_identity_monitoring))
        .routes(routes!(writes::resume_identity_monitoring))
        .routes(routes!(merge::preview_identity_merge))
        .routes(routes!(merge::merge_identities))
        .routes(routes!(merge::merge_multiple_identities))
}
