//! Master-key rotation (CONTRACT §11.2, `verifa keys rotate-master`): every session's data key
//! still wrapped under a retired master key is re-wrapped under the current one; the data under
//! the data keys (documents, fields, extracted data) is not touched. Resumable: what is left is
//! exactly the keys whose wrapped form still names a retired key, so an interrupted rotation is
//! finished by running it again. A session changed while its key was re-wrapped keeps what the
//! change wrote (the replacement is a compare-and-set on the wrapped key) and is picked up by
//! the next pass.

use crate::crypto::Cipher;
use crate::error::AppError;
use std::sync::Arc;
use verifa_ports::sessions::DataKeyStore;

/// Passes over the keys left behind by concurrent changes before the rotation reports them.
const PASSES: usize = 3;

/// Most unreadable session ids a report lists.
const MAX_LISTED: usize = 20;

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Data keys re-wrapped under the current master key.
    pub rewrapped: u64,
    /// Data keys that neither the current nor a retired master key opens (a key not
    /// configured, or a tampered row), and the first of their sessions.
    pub unreadable: u64,
    /// The first sessions whose key is unreadable.
    pub unreadable_sessions: Vec<String>,
    /// Keys still under a retired master key when the rotation stopped (changed meanwhile, or
    /// unreadable); 0 means the retired keys wrap nothing any more.
    pub remaining: u64,
}

/// The rotation use case.
pub struct MasterKeyRotation {
    keys: Arc<dyn DataKeyStore>,
    /// The current master key with the retired ones it replaces.
    cipher: Cipher,
}

impl MasterKeyRotation {
    /// Builds the use case over the data-key store and the configured key ring.
    pub fn new(ports: &crate::Ports, cipher: Cipher) -> Self {
        Self {
            keys: ports.data_keys.clone(),
            cipher,
        }
    }

    /// Re-wraps every data key not under the current master key, `batch` at a time.
    ///
    /// # Errors
    /// When the store fails; the keys re-wrapped before stay re-wrapped.
    pub async fn rotate(&self, batch: u64) -> Result<RotationReport, AppError> {
        let batch = batch.clamp(1, 10_000);
        let mut report = RotationReport::default();
        for _ in 0..PASSES {
            let (rewrapped, left) = self.pass(batch, &mut report).await?;
            report.remaining = left;
            if rewrapped == 0 || left == report.unreadable {
                break;
            }
        }
        Ok(report)
    }

    /// One pass in session-id order; returns (re-wrapped now, still not under the current key).
    async fn pass(&self, batch: u64, report: &mut RotationReport) -> Result<(u64, u64), AppError> {
        let current = self.cipher.key_id().to_owned();
        let (mut rewrapped, mut left) = (0, 0);
        let mut unreadable = 0;
        let mut listed = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let keys = self
                .keys
                .data_keys_not_under(&current, after.as_deref(), batch)
                .await?;
            let Some(last) = keys.last() else { break };
            after = Some(last.session_id.clone());
            for key in &keys {
                match self.cipher.rewrap_to_current(&key.wrapped, &key.session_id) {
                    Ok(Some(next)) => {
                        if self
                            .keys
                            .replace_data_key(&key.session_id, &key.wrapped, &next)
                            .await?
                        {
                            rewrapped += 1;
                        } else {
                            left += 1;
                        }
                    }
                    Ok(None) => {}
                    Err(_) => {
                        unreadable += 1;
                        left += 1;
                        if listed.len() < MAX_LISTED {
                            listed.push(key.session_id.clone());
                        }
                    }
                }
            }
        }
        report.rewrapped += rewrapped;
        report.unreadable = unreadable;
        report.unreadable_sessions = listed;
        Ok((rewrapped, left))
    }
}
