//! [`DuplicateIndex`] on sea-orm: `duplicate_fingerprints` rows per (tenant, session,
//! attribute, keyed hash). Only the hex HMAC fingerprints handed over are stored or queried;
//! neither they nor the session's values are logged.
//!
//! The insert (`ON CONFLICT … DO NOTHING` on the unique index, so recording twice stores once)
//! commits before the lookup runs: of two sessions recording the same fingerprint at the same
//! moment, at least one always sees the other.

use crate::Database;
use crate::entities::duplicate_fingerprints as fp;
use crate::error::map_db;
use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::{BTreeMap, BTreeSet};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::duplicates::{DuplicateIndex, DuplicateMatch};

/// Column widths of the migration.
const MAX_SESSION_LEN: usize = 64;
const MAX_ATTRIBUTE_LEN: usize = 32;
const MAX_FINGERPRINT_LEN: usize = 128;
/// Fingerprints per statement (7 parameters each on insert, 2 in the lookup).
const BATCH: usize = 500;

fn validate(session_id: &str, pairs: &BTreeSet<(&str, String)>) -> Result<(), RepoError> {
    if session_id.is_empty() || session_id.len() > MAX_SESSION_LEN || session_id.contains('\0') {
        return Err(RepoError::Conflict(
            "session id must be 1 to 64 printable characters".into(),
        ));
    }
    for (attribute, fingerprint) in pairs {
        if attribute.is_empty() || attribute.len() > MAX_ATTRIBUTE_LEN || attribute.contains('\0') {
            return Err(RepoError::Conflict(format!(
                "fingerprint attribute must be 1 to {MAX_ATTRIBUTE_LEN} printable characters"
            )));
        }
        if fingerprint.is_empty()
            || fingerprint.len() > MAX_FINGERPRINT_LEN
            || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
        {
            // Never echo the value: it should be a hash, but a caller bug could pass plaintext.
            return Err(RepoError::Conflict(format!(
                "fingerprint for attribute {attribute} must be 1 to {MAX_FINGERPRINT_LEN} hex digits"
            )));
        }
    }
    Ok(())
}

#[async_trait]
impl DuplicateIndex for Database {
    async fn record_and_match(
        &self,
        tenant: &Tenant,
        session_id: &str,
        fingerprints: &[(String, String)],
    ) -> Result<Vec<DuplicateMatch>, RepoError> {
        // Hex is case-insensitive: store and compare lower-case.
        let pairs: BTreeSet<(&str, String)> = fingerprints
            .iter()
            .map(|(a, f)| (a.as_str(), f.to_ascii_lowercase()))
            .collect();
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        validate(session_id, &pairs)?;
        let pairs: Vec<(&str, String)> = pairs.into_iter().collect();
        let org = tenant.org_id.as_str();
        let env = tenant.environment.as_str();
        let now = Utc::now();

        for chunk in pairs.chunks(BATCH) {
            let rows = chunk
                .iter()
                .map(|(attribute, fingerprint)| fp::ActiveModel {
                    org_id: Set(org.to_owned()),
                    environment: Set(env.to_owned()),
                    session_id: Set(session_id.to_owned()),
                    attribute: Set((*attribute).to_owned()),
                    fingerprint: Set(fingerprint.clone()),
                    created_at: Set(now),
                    ..Default::default()
                });
            fp::Entity::insert_many(rows)
                .on_conflict_do_nothing_on([
                    fp::Column::OrgId,
                    fp::Column::Environment,
                    fp::Column::SessionId,
                    fp::Column::Attribute,
                    fp::Column::Fingerprint,
                ])
                .exec_without_returning(&self.conn)
                .await
                .map_err(map_db)?;
        }

        let mut matches: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for chunk in pairs.chunks(BATCH) {
            let any_pair = chunk
                .iter()
                .fold(Condition::any(), |cond, (attribute, fingerprint)| {
                    cond.add(
                        Condition::all()
                            .add(fp::Column::Attribute.eq(*attribute))
                            .add(fp::Column::Fingerprint.eq(fingerprint.as_str())),
                    )
                });
            let rows: Vec<(String, String)> = fp::Entity::find()
                .select_only()
                .column(fp::Column::SessionId)
                .column(fp::Column::Attribute)
                .distinct()
                .filter(fp::Column::OrgId.eq(org))
                .filter(fp::Column::Environment.eq(env))
                .filter(fp::Column::SessionId.ne(session_id))
                .filter(any_pair)
                .order_by_asc(fp::Column::SessionId)
                .order_by_asc(fp::Column::Attribute)
                .into_tuple()
                .all(&self.conn)
                .await
                .map_err(map_db)?;
            for (other, attribute) in rows {
                matches.entry(other).or_default().insert(attribute);
            }
        }
        Ok(matches
            .into_iter()
            .map(|(session_id, attributes)| DuplicateMatch {
                session_id,
                attributes: attributes.into_iter().collect(),
            })
            .collect())
    }
}
