//! The [`Dispatcher`]: fans the outbox out into deliveries and delivers them under leases.

use super::stats::DispatcherStats;
use super::{WebhookSettings, attempt_error, jitter, open_secret, prefix, send_signed};
use crate::actor::system_audit;
use crate::crypto::Cipher;
use crate::error::AppError;
use crate::ids::new_id;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use verifa_domain::tenancy::Tenant;
use verifa_domain::webhooks::events;
use verifa_domain::webhooks::payload::{
    PayloadOptions, WebhookEvent, build_payload, matches_filter_conditions, to_body,
};
use verifa_domain::webhooks::schedule::{self, CIRCUIT_BREAKER_THRESHOLD, DeliveryDecision};
use verifa_ports::clock::Clock;
use verifa_ports::webhook_store::{
    AttemptNext, AttemptRecord, DeliveryRecord, DeliveryStatus, EndpointRecord, OutboxEvent,
};
use verifa_ports::webhook_store::{DeliveryStore, EndpointStore, OutboxFanOut};
use verifa_ports::webhooks::{WebhookResponse, WebhookTransport};

/// What one delivery step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryStepSummary {
    /// Attempts made.
    pub attempted: usize,
    /// Of which delivered.
    pub succeeded: usize,
    /// Of which scheduled for a retry.
    pub retried: usize,
    /// Of which failed for good.
    pub failed: usize,
    /// Endpoints disabled by the circuit breaker.
    pub endpoints_disabled: usize,
}

/// Turns outbox events into deliveries and delivers them. Several dispatchers (threads or
/// processes) may run at once; leases keep them from sending a delivery concurrently.
pub struct Dispatcher {
    pub(super) endpoints: Arc<dyn EndpointStore>,
    pub(super) deliveries: Arc<dyn DeliveryStore>,
    pub(super) outbox: Arc<dyn OutboxFanOut>,
    pub(super) transport: Arc<dyn WebhookTransport>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) cipher: Arc<Cipher>,
    pub(super) settings: Arc<WebhookSettings>,
    pub(super) owner: String,
    pub(super) stats: Arc<DispatcherStats>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("owner", &self.owner)
            .finish()
    }
}

impl Dispatcher {
    /// The lease owner name.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// What this dispatcher did so far.
    pub fn stats(&self) -> Arc<DispatcherStats> {
        self.stats.clone()
    }

    /// One fan-out step: outbox rows after the cursor become deliveries. Returns the number of
    /// deliveries created (0 when another dispatcher did this batch).
    pub async fn fan_out_once(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let started = Instant::now();
        let from = self.outbox.fan_out_cursor().await?;
        let rows = self
            .outbox
            .outbox_after(from, self.settings.batch_size.max(1))
            .await?;
        self.stats.store(started);
        let mut taken: Vec<OutboxEvent> = Vec::with_capacity(rows.len());
        let mut expected = from.saturating_add(1);
        for row in rows {
            if row.seq != expected
                && now.signed_duration_since(row.created_at) < self.settings.gap_grace
            {
                // An earlier number may still commit: wait for it (or for the grace to pass).
                break;
            }
            expected = row.seq.saturating_add(1);
            taken.push(row);
        }
        let Some(to) = taken.last().map(|r| r.seq) else {
            return Ok(0);
        };
        let started = Instant::now();
        let mut endpoints: HashMap<Tenant, Vec<EndpointRecord>> = HashMap::new();
        let mut batch = Vec::new();
        for row in &taken {
            let fields = match serde_json::from_str::<Value>(&row.data) {
                Ok(Value::Object(m)) => m,
                _ => {
                    tracing::warn!(event_id = %row.id, seq = row.seq, "outbox event data is not a JSON object; skipped");
                    continue;
                }
            };
            let event = WebhookEvent {
                event: row.event_type.clone(),
                fields,
                created_at: row.created_at,
            };
            if !endpoints.contains_key(&row.tenant) {
                let list = self.endpoints.enabled_endpoints(&row.tenant).await?;
                endpoints.insert(row.tenant.clone(), list);
            }
            let targets = endpoints.get(&row.tenant).map(Vec::as_slice).unwrap_or(&[]);
            for ep in targets {
                if ep.created_at > row.created_at
                    || !events::is_enabled(&ep.enabled_events, &row.event_type)
                    || !matches_filter_conditions(&ep.event_filter_conditions, &event)
                {
                    continue;
                }
                let idk = new_id(prefix::IDEMPOTENCY_KEY);
                let body = to_body(&build_payload(
                    &event,
                    &idk,
                    &PayloadOptions {
                        key_inflection: ep.key_inflection,
                        attribute_blocklist: &ep.attribute_blocklist,
                    },
                ));
                batch.push(DeliveryRecord {
                    id: new_id(prefix::DELIVERY),
                    endpoint_id: ep.id.clone(),
                    tenant: row.tenant.clone(),
                    event_id: row.id.clone(),
                    event_seq: Some(row.seq),
                    session_id: Some(row.session_id.clone()),
                    event_type: row.event_type.clone(),
                    idempotency_key: idk,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: Some(now),
                    lease_owner: None,
                    lease_until: None,
                    last_attempt_at: None,
                    last_status_code: None,
                    last_error: None,
                    last_duration_ms: None,
                    is_test: false,
                    created_at: now,
                    updated_at: now,
                    completed_at: None,
                });
            }
        }
        let created = batch.len();
        let committed = self.outbox.commit_fan_out(from, to, &batch, now).await?;
        self.stats.committed_fan_out();
        self.stats.store(started);
        if committed {
            self.stats.fanned_out(created);
            if created > 0 {
                tracing::debug!(
                    events = taken.len(),
                    deliveries = created,
                    to_seq = to,
                    "webhook fan-out"
                );
            }
            Ok(created)
        } else {
            Ok(0)
        }
    }

    /// Claims (leases to this dispatcher) up to `batch_size` deliveries due at `now` that are not
    /// waiting behind an earlier event of the same session. Exposed to test crash recovery.
    pub async fn claim_due(&self, now: DateTime<Utc>) -> Result<Vec<DeliveryRecord>, AppError> {
        Ok(self
            .deliveries
            .claim_due(
                &self.owner,
                now,
                now + self.settings.lease,
                self.settings.batch_size.max(1),
            )
            .await?)
    }

    /// One delivery step: up to `batch_size` due deliveries are claimed in one statement, sent
    /// concurrently, and their attempts recorded in one transaction. A slow receiver holds its
    /// batch until the 30 s timeout (the lease is longer); other dispatcher loops go on.
    pub async fn deliver_due_once(
        &self,
        now: DateTime<Utc>,
    ) -> Result<DeliveryStepSummary, AppError> {
        let mut summary = DeliveryStepSummary::default();
        let started = Instant::now();
        let claimed = self.claim_due(now).await?;
        self.stats.claimed();
        if claimed.is_empty() {
            self.stats.store(started);
            return Ok(summary);
        }
        let mut endpoint_ids: Vec<String> = claimed.iter().map(|d| d.endpoint_id.clone()).collect();
        endpoint_ids.sort_unstable();
        endpoint_ids.dedup();
        let endpoints: HashMap<String, EndpointRecord> = self
            .endpoints
            .endpoints_by_ids(&endpoint_ids)
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        self.stats.store(started);
        // A deleted endpoint's deliveries are deleted with it: nothing to attempt or record.
        let claimed: Vec<(DeliveryRecord, &EndpointRecord)> = claimed
            .into_iter()
            .filter_map(|d| endpoints.get(&d.endpoint_id).map(|e| (d, e)))
            .collect();
        // Each endpoint's secret is opened once per batch.
        let secrets: HashMap<&str, Result<String, String>> = endpoints
            .values()
            .map(|e| {
                (
                    e.id.as_str(),
                    open_secret(&self.cipher, e).map_err(|err| err.to_string()),
                )
            })
            .collect();
        let sends = claimed
            .iter()
            .map(|(d, endpoint)| self.send(d, endpoint, secrets.get(endpoint.id.as_str()), now));
        let started = Instant::now();
        let responses = join_all(sends).await;
        self.stats.send(started);
        let records: Vec<AttemptRecord> = claimed
            .iter()
            .zip(&responses)
            .map(|((d, _), response)| {
                let attempt_number = d.attempts.saturating_add(1);
                let outcome = schedule::classify(response.status, response.timed_out());
                let next = match schedule::decide(outcome, attempt_number, now, jitter()) {
                    DeliveryDecision::Delivered => AttemptNext::Succeeded,
                    DeliveryDecision::RetryAt(t) => AttemptNext::RetryAt(t),
                    DeliveryDecision::Failed => AttemptNext::Failed,
                };
                AttemptRecord {
                    delivery_id: d.id.clone(),
                    endpoint_id: d.endpoint_id.clone(),
                    lease_owner: self.owner.clone(),
                    attempted_at: now,
                    status_code: response.status,
                    error: attempt_error(response),
                    duration_ms: response.duration_ms,
                    next,
                    audit_if_disabled: (next == AttemptNext::Failed).then(|| {
                        system_audit(
                            d.tenant.clone(),
                            "webhook_endpoint.disabled",
                            "webhook_endpoint",
                            &d.endpoint_id,
                            now,
                        )
                        .with_changes(["enabled", "disabled_at"])
                        .with_metadata("reason", "circuit_breaker")
                        .with_metadata("delivery_id", d.id.as_str())
                    }),
                }
            })
            .collect();
        let started = Instant::now();
        let finished = self
            .deliveries
            .finish_attempts(&records, CIRCUIT_BREAKER_THRESHOLD)
            .await?;
        self.stats.store(started);
        self.stats.recorded_batch();
        for (record, finished) in records.iter().zip(finished) {
            summary.attempted += 1;
            match record.next {
                AttemptNext::Succeeded => summary.succeeded += 1,
                AttemptNext::RetryAt(_) => summary.retried += 1,
                AttemptNext::Failed => summary.failed += 1,
            }
            if finished.endpoint_disabled {
                summary.endpoints_disabled += 1;
                tracing::warn!(endpoint_id = %record.endpoint_id, "webhook endpoint disabled after {CIRCUIT_BREAKER_THRESHOLD} consecutive failed deliveries");
            }
            if !finished.recorded {
                tracing::warn!(delivery_id = %record.delivery_id, "webhook delivery lease lost before the attempt was recorded");
            }
            tracing::debug!(
                delivery_id = %record.delivery_id,
                endpoint_id = %record.endpoint_id,
                status = ?record.status_code,
                error = ?record.error,
                next = ?record.next,
                "webhook delivery attempt"
            );
        }
        self.stats.attempted(summary.attempted, summary.succeeded);
        Ok(summary)
    }

    /// Signs and sends one claimed delivery (no store access).
    async fn send(
        &self,
        d: &DeliveryRecord,
        endpoint: &EndpointRecord,
        secret: Option<&Result<String, String>>,
        at: DateTime<Utc>,
    ) -> WebhookResponse {
        match secret {
            Some(Ok(secret)) => {
                send_signed(
                    self.transport.as_ref(),
                    &self.settings,
                    &endpoint.url,
                    secret,
                    &d.id,
                    &d.event_type,
                    d.body.as_bytes(),
                    at,
                )
                .await
            }
            Some(Err(e)) => {
                tracing::error!(endpoint_id = %endpoint.id, error = %e, "webhook secret cannot be decrypted");
                WebhookResponse::failure("signing secret unavailable", 0)
            }
            None => WebhookResponse::failure("signing secret unavailable", 0),
        }
    }

    /// The background loop: fan out, deliver what is due, then `sleep_or_stop(delay)`, until it
    /// returns `true` (stop). `sleep_or_stop` waits up to `delay` (zero after a busy step) and
    /// says whether to stop; the composition root builds it from its stop signal. Errors are
    /// logged and the loop goes on.
    pub async fn run<W, F>(&self, mut sleep_or_stop: W)
    where
        W: FnMut(Duration) -> F + Send,
        F: Future<Output = bool> + Send,
    {
        loop {
            let mut busy = false;
            match self.fan_out_once().await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "webhook fan-out failed"),
            }
            match self.deliver_due_once(self.clock.now()).await {
                Ok(s) => busy |= s.attempted > 0,
                Err(e) => tracing::warn!(error = %e, "webhook delivery step failed"),
            }
            self.stats.step(!busy);
            let delay = if busy {
                Duration::ZERO
            } else {
                self.settings.poll_interval
            };
            if sleep_or_stop(delay).await {
                return;
            }
        }
    }
}
