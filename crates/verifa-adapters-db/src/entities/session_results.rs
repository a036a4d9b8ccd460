//! `session_results` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_id: String,
    pub org_id: String,
    pub environment: String,
    pub status: String,
    pub result: String,
    pub extracted_data_encrypted: Option<String>,
    pub rejection_reason: Option<String>,
    pub workflow_run_id: Option<String>,
    pub simulated: bool,
    /// The case whose decision is the result, and its reviewer.
    pub case_id: Option<String>,
    pub decided_by: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
