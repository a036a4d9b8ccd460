//! [`ApiKeyRepository`] on sea-orm.

use crate::Database;
use crate::entities::api_keys as keys;
use crate::error::{corrupt, map_db};
use crate::repos::audit;
use crate::repos::common::{fenced, settle};
use crate::repos::common::{fetch_page, in_tenant};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use verifa_domain::api_key::{ApiKey, KeyType};
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::scopes::ScopeSet;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::api_keys::ApiKeyRepository;

pub(crate) fn to_active(k: &ApiKey) -> keys::ActiveModel {
    keys::ActiveModel {
        id: Set(k.id.clone()),
        org_id: Set(k.org_id.clone()),
        environment: Set(k.environment.as_str().to_owned()),
        key_type: Set(k.key_type.as_str().to_owned()),
        label: Set(k.label.clone()),
        note: Set(k.note.clone()),
        key_prefix: Set(k.key_prefix.clone()),
        secret_hash: Set(k.secret_hash.clone()),
        scopes: Set(serde_json::to_string(&k.scopes.names()).unwrap_or_else(|_| "[]".into())),
        allowed_ips: Set(k.allowed_ips.as_ref().map(|nets| {
            serde_json::to_string(&nets.iter().map(ToString::to_string).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into())
        })),
        api_version: Set(k.api_version.clone()),
        default_key_inflection: Set(k.default_key_inflection.clone()),
        is_active: Set(k.is_active),
        expires_at: Set(k.expires_at),
        last_used_at: Set(k.last_used_at),
        created_at: Set(k.created_at),
        updated_at: Set(k.updated_at),
        revision: Set(k.revision),
    }
}

fn from_model(m: keys::Model) -> Result<ApiKey, RepoError> {
    let scope_names: Vec<String> =
        serde_json::from_str(&m.scopes).map_err(|e| corrupt("api_keys.scopes", e))?;
    let scopes =
        ScopeSet::parse(&scope_names).map_err(|e| corrupt("api_keys.scopes", format!("{e:?}")))?;
    let allowed_ips = match m.allowed_ips {
        None => None,
        Some(raw) => {
            let entries: Vec<String> =
                serde_json::from_str(&raw).map_err(|e| corrupt("api_keys.allowed_ips", e))?;
            Some(
                verifa_domain::api_key::parse_allowed_ips(&entries)
                    .map_err(|e| corrupt("api_keys.allowed_ips", format!("{e:?}")))?,
            )
        }
    };
    Ok(ApiKey {
        environment: m
            .environment
            .parse()
            .map_err(|e| corrupt("api_keys.environment", e))?,
        key_type: KeyType::parse(&m.key_type)
            .ok_or_else(|| corrupt("api_keys.key_type", &m.key_type))?,
        id: m.id,
        org_id: m.org_id,
        label: m.label,
        note: m.note,
        key_prefix: m.key_prefix,
        secret_hash: m.secret_hash,
        scopes,
        allowed_ips,
        api_version: m.api_version,
        default_key_inflection: m.default_key_inflection,
        is_active: m.is_active,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

#[async_trait]
impl ApiKeyRepository for Database {
    async fn insert(&self, key: &ApiKey, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            to_active(key).insert(&txn).await.map_err(map_db)?;
            audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn find_by_secret_hash(&self, hash: &str) -> Result<Option<ApiKey>, RepoError> {
        let found = keys::Entity::find()
            .filter(keys::Column::SecretHash.eq(hash))
            .one(&self.conn)
            .await
            .map_err(map_db)?;
        found.map(from_model).transpose()
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<ApiKey, RepoError> {
        let m = keys::Entity::find()
            .filter(in_tenant(
                keys::Column::OrgId,
                keys::Column::Environment,
                tenant,
            ))
            .filter(keys::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        from_model(m)
    }

    async fn list(&self, tenant: &Tenant, page: PageRequest) -> Result<Page<ApiKey>, RepoError> {
        let query = keys::Entity::find().filter(in_tenant(
            keys::Column::OrgId,
            keys::Column::Environment,
            tenant,
        ));
        let (rows, total) = fetch_page(
            query
                .order_by_desc(keys::Column::CreatedAt)
                .order_by_desc(keys::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        let items = rows.into_iter().map(from_model).collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn update(&self, key: &ApiKey, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            write_fenced(&txn, key).await?;
            audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn update_keeping_admin(
        &self,
        key: &ApiKey,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let tenant = Tenant::new(key.org_id.clone(), key.environment);
            let scope = in_tenant(keys::Column::OrgId, keys::Column::Environment, &tenant);
            if txn.get_database_backend() == DbBackend::Postgres {
                // Lock the tenant's keys: two of these calls never interleave, so together they
                // cannot remove the last key administrator. (SQLite serialises writers.)
                keys::Entity::find()
                    .select_only()
                    .column(keys::Column::Id)
                    .filter(scope.clone())
                    .lock_exclusive()
                    .into_tuple::<String>()
                    .all(&txn)
                    .await
                    .map_err(map_db)?;
            }
            write_fenced(&txn, key).await?;
            let keys = keys::Entity::find()
                .filter(scope)
                .all(&txn)
                .await
                .map_err(map_db)?
                .into_iter()
                .map(from_model)
                .collect::<Result<Vec<_>, _>>()?;
            let administered = keys.iter().any(|k| k.administers_keys(now));
            if administered {
                audit::append(&txn, audit).await?;
            }
            Ok(administered)
        }
        .await;
        match outcome {
            Ok(true) => {
                txn.commit().await.map_err(map_db)?;
                Ok(true)
            }
            Ok(false) => {
                let _ = txn.rollback().await;
                Ok(false)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }

    async fn record_use(&self, id: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        keys::Entity::update_many()
            .col_expr(keys::Column::LastUsedAt, Expr::value(at))
            .filter(keys::Column::Id.eq(id))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(())
    }
}

/// The fenced overwrite of a key's mutable fields (identity, secret, creation and last use
/// never change here).
async fn write_fenced<C: ConnectionTrait>(conn: &C, key: &ApiKey) -> Result<(), RepoError> {
    let mut active = to_active(key);
    for col in [
        keys::Column::OrgId,
        keys::Column::Environment,
        keys::Column::KeyType,
        keys::Column::KeyPrefix,
        keys::Column::SecretHash,
        keys::Column::CreatedAt,
        keys::Column::LastUsedAt,
    ] {
        active.not_set(col);
    }
    active.revision = Set(key.revision.saturating_add(1));
    let scope = || {
        Condition::all()
            .add(keys::Column::Id.eq(key.id.clone()))
            .add(keys::Column::OrgId.eq(key.org_id.clone()))
            .add(keys::Column::Environment.eq(key.environment.as_str()))
    };
    let result = keys::Entity::update_many()
        .set(active)
        .filter(scope())
        .filter(keys::Column::Revision.eq(key.revision))
        .exec(conn)
        .await
        .map_err(map_db)?;
    fenced(result.rows_affected, async {
        Ok(keys::Entity::find()
            .filter(scope())
            .one(conn)
            .await
            .map_err(map_db)?
            .is_some())
    })
    .await
}
