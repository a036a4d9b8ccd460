//! [`RecordingTransport`]: webhook HTTP that records every request and answers with the status
//! a test set (200 unless told otherwise), without a network.

use async_trait::async_trait;
use std::sync::{Mutex, PoisonError};
use verifa_ports::webhooks::{WebhookRequest, WebhookResponse, WebhookTransport};

/// Records requests; answers each with the next scripted response, else the default.
#[derive(Debug)]
pub struct RecordingTransport {
    sent: Mutex<Vec<WebhookRequest>>,
    script: Mutex<Vec<WebhookResponse>>,
    default_status: Mutex<u16>,
}

impl Default for RecordingTransport {
    fn default() -> Self {
        Self {
            sent: Mutex::new(Vec::new()),
            script: Mutex::new(Vec::new()),
            default_status: Mutex::new(200),
        }
    }
}

impl RecordingTransport {
    /// Answers 200 to everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `status` to every request not scripted otherwise.
    pub fn answer(&self, status: u16) {
        *self
            .default_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = status;
    }

    /// The next requests get these responses, in order.
    pub fn script(&self, responses: impl IntoIterator<Item = WebhookResponse>) {
        let mut s = self.script.lock().unwrap_or_else(PoisonError::into_inner);
        s.extend(responses);
    }

    /// Every request sent so far.
    pub fn sent(&self) -> Vec<WebhookRequest> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl WebhookTransport for RecordingTransport {
    async fn send(&self, request: &WebhookRequest) -> WebhookResponse {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.clone());
        let scripted = {
            let mut s = self.script.lock().unwrap_or_else(PoisonError::into_inner);
            (!s.is_empty()).then(|| s.remove(0))
        };
        scripted.unwrap_or_else(|| WebhookResponse {
            status: Some(
                *self
                    .default_status
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            ),
            error: None,
            duration_ms: 1,
            body_excerpt: None,
        })
    }
}
