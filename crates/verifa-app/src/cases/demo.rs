//! `POST /cases/demo` (CONTRACT §8.4, sandbox only): a synthetic session with specimen
//! documents and the sandbox's check results, sent to review with `source: "demo"`, so a new
//! team can try the review flow before any applicant exists. At most [`MAX_DEMO_CASES`] per
//! organization.
//!
//! The specimen images are synthetic (a card drawn with the ICAO 9303 specimen data and "NOT A
//! REAL DOCUMENT" on it, and a drawn face); they are embedded in the binary.

use super::CaseService;
use crate::actor::Caller;
use crate::error::AppError;
use crate::sessions::{NewSession, SessionService};
use serde_json::{Map, json};
use verifa_domain::case::{Case, CaseSource};
use verifa_domain::pagination::PageRequest;
use verifa_ports::cases::CaseFilter;

/// Demo cases an organization may open.
pub const MAX_DEMO_CASES: u64 = 3;
/// The specimen identity card's front (JPEG).
pub const SPECIMEN_ID_FRONT: &[u8] = include_bytes!("../../assets/specimen/id_front.jpg");
/// The specimen selfie (JPEG).
pub const SPECIMEN_SELFIE: &[u8] = include_bytes!("../../assets/specimen/selfie.jpg");
/// The ICAO 9303 specimen passport MRZ, the text of the specimen card.
pub const SPECIMEN_MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

impl CaseService {
    /// Opens a demo case: a sandbox session with the specimen documents, decided for review.
    pub async fn open_demo(
        &self,
        caller: &Caller,
        sessions: &SessionService,
    ) -> Result<Case, AppError> {
        let tenant = caller.tenant();
        if !tenant.environment.is_sandbox() {
            return Err(AppError::Forbidden {
                code: "sandbox_only",
                detail: "Demo cases are only available with sandbox keys.".into(),
            });
        }
        let filter = CaseFilter {
            source: Some(CaseSource::Demo),
            ..Default::default()
        };
        let one = PageRequest {
            limit: 1,
            offset: 0,
        };
        let opened = self
            .store
            .list(&tenant, &filter, self.clock.now(), one)
            .await?
            .total;
        if opened >= MAX_DEMO_CASES {
            return Err(AppError::Conflict(format!(
                "this organization has its {MAX_DEMO_CASES} demo cases; review those, or send \
                 a sandbox session to review with POST /sessions/{{id}}/simulate"
            )));
        }
        let new = NewSession {
            external_ref: Some(format!("demo_{}", opened + 1)),
            metadata: Some(Map::from_iter([("demo".to_owned(), json!(true))])),
            ..Default::default()
        };
        let id = sessions.create(caller, new).await?.session.id;
        sessions
            .upload_document(
                caller,
                &id,
                "id_front",
                SPECIMEN_ID_FRONT.to_vec(),
                Some(SPECIMEN_MRZ.into()),
            )
            .await?;
        sessions
            .upload_document(caller, &id, "selfie", SPECIMEN_SELFIE.to_vec(), None)
            .await?;
        sessions
            .simulate_from(caller, &id, "require-review", CaseSource::Demo)
            .await?;
        self.store
            .active_for_session(&tenant, &id)
            .await?
            .ok_or_else(|| AppError::Internal("the demo session opened no case".into()))
    }
}
