//! Test deliveries, an endpoint's delivery history and the manual retry of a failed delivery.

use super::{DEFAULT_TEST_EVENT, WebhookService, attempt_error, prefix, send_signed};
use crate::api_keys::Caller;
use crate::error::AppError;
use crate::ids::new_id;
use serde_json::json;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::webhooks::events;
use verifa_domain::webhooks::payload::{PayloadOptions, WebhookEvent, build_payload, to_body};
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{DeliveryFilter, DeliveryRecord, DeliveryStatus};

/// Result of `POST …/test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// A 2xx was received.
    pub success: bool,
    /// HTTP status received.
    pub http_status: Option<u16>,
    /// Why it failed.
    pub error: Option<String>,
    /// Destination.
    pub url: Option<String>,
    /// The recorded delivery.
    pub delivery_id: String,
}

impl WebhookService {
    /// Sends a signed test event now (no retries) and records it as a delivery.
    pub async fn test(
        &self,
        caller: &Caller,
        id: &str,
        event_type: Option<String>,
    ) -> Result<TestOutcome, AppError> {
        let e = self.load(&caller.tenant(), id).await?;
        let event_type = event_type.unwrap_or_else(|| DEFAULT_TEST_EVENT.to_owned());
        if !events::is_known(&event_type) {
            return Err(AppError::invalid(
                "event_type",
                format!("unknown event type '{event_type}'"),
            ));
        }
        let now = self.clock.now();
        let delivery_id = new_id(prefix::DELIVERY);
        let idk = new_id(prefix::IDEMPOTENCY_KEY);
        let fields = json!({
            "session_id": new_id("ses_test"),
            "external_ref": null,
            "status": "approved",
            "is_sandbox": e.tenant.environment.is_sandbox(),
            "test": true,
        });
        let event = WebhookEvent {
            event: event_type.clone(),
            fields: fields.as_object().cloned().unwrap_or_default(),
            created_at: now,
        };
        let body = to_body(&build_payload(
            &event,
            &idk,
            &PayloadOptions {
                key_inflection: e.key_inflection,
                attribute_blocklist: &e.attribute_blocklist,
            },
        ));
        let secret = self.open(&e)?;
        let response = send_signed(
            self.transport.as_ref(),
            &self.settings,
            &e.url,
            &secret,
            &delivery_id,
            &event_type,
            &body,
            now,
        )
        .await;
        let success = response.is_success();
        let error = attempt_error(&response);
        let record = DeliveryRecord {
            id: delivery_id.clone(),
            endpoint_id: e.id.clone(),
            tenant: e.tenant.clone(),
            event_id: new_id(prefix::TEST_EVENT),
            event_seq: None,
            session_id: None,
            event_type,
            idempotency_key: idk,
            body: String::from_utf8_lossy(&body).into_owned(),
            status: if success {
                DeliveryStatus::Succeeded
            } else {
                DeliveryStatus::Failed
            },
            attempts: 1,
            next_attempt_at: None,
            lease_owner: None,
            lease_until: None,
            last_attempt_at: Some(now),
            last_status_code: response.status,
            last_error: error.clone(),
            last_duration_ms: Some(response.duration_ms),
            is_test: true,
            created_at: now,
            updated_at: now,
            completed_at: Some(now),
        };
        self.deliveries.insert_delivery(&record).await?;
        tracing::info!(endpoint_id = %e.id, delivery_id = %delivery_id, success, status = ?response.status, "webhook test delivery");
        Ok(TestOutcome {
            success,
            http_status: response.status,
            error,
            url: Some(e.url),
            delivery_id,
        })
    }

    /// Deliveries of an endpoint, newest first.
    pub async fn deliveries(
        &self,
        caller: &Caller,
        endpoint_id: &str,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<DeliveryRecord>, AppError> {
        let tenant = caller.tenant();
        self.load(&tenant, endpoint_id).await?;
        Ok(self
            .deliveries
            .list_deliveries(&tenant, endpoint_id, &filter, page)
            .await?)
    }

    /// Puts a failed delivery back in the queue (same body, same `idempotency_key`).
    pub async fn retry(
        &self,
        caller: &Caller,
        delivery_id: &str,
    ) -> Result<DeliveryRecord, AppError> {
        let tenant = caller.tenant();
        let d = self
            .deliveries
            .get_delivery(&tenant, delivery_id)
            .await
            .map_err(AppError::from_repo("webhook delivery"))?;
        if d.is_test {
            return Err(AppError::InvalidState(
                "Test deliveries cannot be retried; send a new test instead.".into(),
            ));
        }
        let endpoint = self.load(&tenant, &d.endpoint_id).await?;
        if !endpoint.enabled {
            return Err(AppError::InvalidState(
                "The endpoint is disabled; enable it before retrying its deliveries.".into(),
            ));
        }
        let now = self.clock.now();
        let audit = caller
            .audit(
                "webhook_delivery.retried",
                "webhook_delivery",
                delivery_id,
                now,
            )
            .with_changes(["status", "attempts", "next_attempt_at"])
            .with_metadata("endpoint_id", d.endpoint_id.as_str());
        match self
            .deliveries
            .requeue_failed(&tenant, delivery_id, now, &[audit])
            .await
        {
            Ok(d) => Ok(d),
            Err(RepoError::Conflict(_)) => Err(AppError::InvalidState(format!(
                "Only failed deliveries can be retried; this one is {}.",
                d.status.as_str()
            ))),
            Err(e) => Err(AppError::from_repo("webhook delivery")(e)),
        }
    }
}
