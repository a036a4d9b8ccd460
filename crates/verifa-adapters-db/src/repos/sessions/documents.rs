//! [`SessionDocuments`] on sea-orm: document metadata written in the transaction of the session
//! change an upload causes.

use super::change::apply_in;
use super::rows::{document_active, document_from};
use crate::Database;
use crate::entities::session_documents as docs;
use crate::error::map_db;
use crate::repos::common::{in_tenant, settle};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::sessions::{DocumentRecord, SessionChange, SessionDocuments};

#[async_trait]
impl SessionDocuments for Database {
    async fn put_document(
        &self,
        document: &DocumentRecord,
        change: &SessionChange,
    ) -> Result<Option<DocumentRecord>, RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            apply_in(&txn, change, &self.cipher).await?;
            let previous = docs::Entity::find()
                .filter(docs::Column::SessionId.eq(document.session_id.clone()))
                .filter(docs::Column::DocumentType.eq(document.document_type.as_str()))
                .one(&txn)
                .await
                .map_err(map_db)?;
            if let Some(p) = &previous {
                docs::Entity::delete_by_id(p.id.clone())
                    .exec(&txn)
                    .await
                    .map_err(map_db)?;
            }
            document_active(document)
                .insert(&txn)
                .await
                .map_err(map_db)?;
            previous.map(document_from).transpose()
        }
        .await;
        settle(txn, outcome).await
    }

    async fn documents(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Vec<DocumentRecord>, RepoError> {
        docs::Entity::find()
            .filter(in_tenant(
                docs::Column::OrgId,
                docs::Column::Environment,
                tenant,
            ))
            .filter(docs::Column::SessionId.eq(session_id))
            .order_by_asc(docs::Column::CreatedAt)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(document_from)
            .collect()
    }

    async fn document_by_link(
        &self,
        session_id: &str,
        document_type: verifa_domain::documents::DocumentType,
    ) -> Result<Option<DocumentRecord>, RepoError> {
        // Unique per session and type (`ux_documents_session_type`).
        docs::Entity::find()
            .filter(docs::Column::SessionId.eq(session_id))
            .filter(docs::Column::DocumentType.eq(document_type.as_str()))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(document_from)
            .transpose()
    }
}
