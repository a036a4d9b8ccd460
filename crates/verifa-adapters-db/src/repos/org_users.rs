//! [`OrgUserRepository`] on sea-orm. Emails are unique through the `email_key` index; the last
//! administrator is kept by checking the organization's admins in the transaction that writes
//! (on Postgres under a lock of the organization's users; SQLite serialises writers).

use crate::Database;
use crate::entities::org_users as users;
use crate::error::{corrupt, map_db};
use crate::repos::common::{fenced, settle};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::org_user::{OrgRole, OrgUser, email_key};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_ports::RepoError;
use verifa_ports::org_users::{OrgUserFilter, OrgUserRepository};

fn to_active(u: &OrgUser) -> users::ActiveModel {
    users::ActiveModel {
        id: Set(u.id.clone()),
        org_id: Set(u.org_id.clone()),
        email: Set(u.email.clone()),
        email_key: Set(email_key(&u.email)),
        name: Set(u.name.clone()),
        role: Set(u.role.as_str().to_owned()),
        is_active: Set(u.is_active),
        password_hash: Set(u.password_hash.clone()),
        password_is_temporary: Set(u.password_is_temporary),
        created_at: Set(u.created_at),
        updated_at: Set(u.updated_at),
        last_login_at: Set(u.last_login_at),
        revision: Set(u.revision),
    }
}

fn from_model(m: users::Model) -> Result<OrgUser, RepoError> {
    Ok(OrgUser {
        role: OrgRole::parse(&m.role).ok_or_else(|| corrupt("org_users.role", &m.role))?,
        id: m.id,
        org_id: m.org_id,
        email: m.email,
        name: m.name,
        is_active: m.is_active,
        password_hash: m.password_hash,
        password_is_temporary: m.password_is_temporary,
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_login_at: m.last_login_at,
        revision: m.revision,
    })
}

#[async_trait]
impl OrgUserRepository for Database {
    async fn insert(&self, user: &OrgUser, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            to_active(user).insert(&txn).await.map_err(map_db)?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn get(&self, org_id: &str, id: &str) -> Result<OrgUser, RepoError> {
        let m = users::Entity::find()
            .filter(users::Column::OrgId.eq(org_id))
            .filter(users::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        from_model(m)
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<OrgUser>, RepoError> {
        users::Entity::find()
            .filter(users::Column::EmailKey.eq(email_key(email)))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(from_model)
            .transpose()
    }

    async fn list(
        &self,
        org_id: &str,
        filter: &OrgUserFilter,
        page: PageRequest,
    ) -> Result<Page<OrgUser>, RepoError> {
        let mut query = users::Entity::find().filter(users::Column::OrgId.eq(org_id));
        if let Some(role) = filter.role {
            query = query.filter(users::Column::Role.eq(role.as_str()));
        }
        if let Some(active) = filter.is_active {
            query = query.filter(users::Column::IsActive.eq(active));
        }
        // An organization has tens or hundreds of users: the text filter runs here, with the
        // same Unicode lower-casing on both backends (SQL LOWER differs between them).
        let rows = query
            .order_by_desc(users::Column::CreatedAt)
            .order_by_desc(users::Column::Id)
            .all(&self.conn)
            .await
            .map_err(map_db)?;
        let mut matching = Vec::new();
        for row in rows {
            let user = from_model(row)?;
            if filter.q.as_deref().is_none_or(|q| user.matches_text(q)) {
                matching.push(user);
            }
        }
        let total = matching.len() as u64;
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        Ok(Page {
            items: matching.into_iter().skip(offset).take(limit).collect(),
            total,
            request: page,
        })
    }

    async fn update_keeping_admin(
        &self,
        user: &OrgUser,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError> {
        // The row as it was at the revision the caller read: if the fenced write below succeeds,
        // this is what it replaced.
        let before = users::Entity::find()
            .filter(users::Column::OrgId.eq(user.org_id.clone()))
            .filter(users::Column::Id.eq(user.id.clone()))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(from_model)
            .transpose()?;
        let was_admin = before.is_some_and(|b| b.revision == user.revision && b.administers());
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let org = users::Column::OrgId.eq(user.org_id.clone());
            if txn.get_database_backend() == DbBackend::Postgres {
                // Two of these calls for one organization never interleave, so together they
                // cannot take its last administrator away. (On SQLite the write comes first,
                // which takes the database's one write lock.)
                users::Entity::find()
                    .select_only()
                    .column(users::Column::Id)
                    .filter(org.clone())
                    .lock_exclusive()
                    .into_tuple::<String>()
                    .all(&txn)
                    .await
                    .map_err(map_db)?;
            }
            write_fenced(&txn, user).await?;
            let admins_after = users::Entity::find()
                .filter(org)
                .filter(users::Column::Role.eq(OrgRole::Admin.as_str()))
                .filter(users::Column::IsActive.eq(true))
                .select_only()
                .column(users::Column::Id)
                .into_tuple::<String>()
                .all(&txn)
                .await
                .map_err(map_db)?;
            // Only this row changed: with no admin afterwards, there was one before exactly
            // when this row was it.
            let allowed = !admins_after.is_empty() || !was_admin;
            if allowed {
                crate::repos::audit::append(&txn, audit).await?;
            }
            Ok(allowed)
        }
        .await;
        match outcome {
            Ok(true) => settle(txn, Ok(true)).await,
            Ok(false) => {
                let _ = txn.rollback().await;
                Ok(false)
            }
            Err(e) => settle(txn, Err(e)).await,
        }
    }
}

/// The fenced overwrite of a user's mutable fields (identity, organization and creation never
/// change here).
async fn write_fenced<C: ConnectionTrait>(conn: &C, user: &OrgUser) -> Result<(), RepoError> {
    let mut active = to_active(user);
    for col in [
        users::Column::Id,
        users::Column::OrgId,
        users::Column::CreatedAt,
    ] {
        active.not_set(col);
    }
    active.revision = Set(user.revision.saturating_add(1));
    let scope = || {
        Condition::all()
            .add(users::Column::Id.eq(user.id.clone()))
            .add(users::Column::OrgId.eq(user.org_id.clone()))
    };
    let result = users::Entity::update_many()
        .set(active)
        .filter(scope())
        .filter(users::Column::Revision.eq(user.revision))
        .exec(conn)
        .await
        .map_err(map_db)?;
    fenced(result.rows_affected, async {
        Ok(users::Entity::find()
            .filter(scope())
            .one(conn)
            .await
            .map_err(map_db)?
            .is_some())
    })
    .await
}
