//! The cases group (CONTRACT §8.4): reads and notes in [`reads`], reviewer actions in
//! [`actions`], [`bulk`], [`overriding`], [`pii`] and [`demo`], the object in [`objects`]. Reads need `cases:read`, everything else
//! `cases:write`.

pub mod actions;
pub mod bulk;
pub mod demo;
pub mod objects;
pub mod overriding;
pub mod pii;
pub mod reads;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) const READ: &str = "cases:read";
pub(crate) const WRITE: &str = "cases:write";

/// The routes of the group.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reads::list_cases, actions::create_case))
        .routes(routes!(reads::case_tab_counts))
        .routes(routes!(reads::search_cases))
        .routes(routes!(bulk::bulk_cases))
        .routes(routes!(demo::open_demo_case))
        .routes(routes!(actions::next_case))
        .routes(routes!(reads::get_case, actions::update_case))
        .routes(routes!(reads::list_case_notes, reads::add_case_note))
        .routes(routes!(actions::claim_case))
        .routes(routes!(actions::release_case))
        .routes(routes!(actions::assign_case))
        .routes(routes!(actions::approve_case))
        .routes(routes!(actions::reject_case))
        .routes(routes!(actions::escalate_case))
        .routes(routes!(overriding::override_check))
        .routes(routes!(pii::correct_pii))
}
