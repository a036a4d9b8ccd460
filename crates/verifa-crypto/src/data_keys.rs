//! Envelope encryption (CONTRACT §11.2): each session gets a random 256-bit data key of its own,
//! which encrypts its documents and personal data; only the data key's wrapped form is stored,
//! sealed under the master key with the owner's id as associated data. Destroying the wrapped
//! key crypto-shreds everything under it, blobs copied out of the store included.
//!
//! A wrapped key is stored as `<master key id>:<sealed text>`: the id (the first 16 hex digits
//! of a SHA-256 over the master key) tells which master key wrapped it, so a rotation can find
//! the keys still under the old one and re-wrap them without touching the data.

use crate::{Cipher, CryptoError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The associated data binding a wrapped key to its owner (`ses_…`).
fn wrap_context(owner_id: &str) -> String {
    format!("data-key:{owner_id}")
}

impl Cipher {
    /// The master key's public id: the first 16 hex digits of SHA-256 over a fixed label and the
    /// key (the label keeps it from being the hash of the bare key).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// A fresh data key for `owner_id` and its wrapped, storable form.
    pub fn new_data_key(&self, owner_id: &str) -> (Cipher, String) {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let wrapped = self.wrap_data_key(&key, owner_id);
        (Cipher::from_array(&key), wrapped)
    }

    /// Opens a wrapped data key of `owner_id`.
    ///
    /// # Errors
    /// [`CryptoError::Undecryptable`] when another master key wrapped it (see
    /// [`wrapped_key_id`]), or it belongs to another owner or was tampered with.
    pub fn open_data_key(&self, wrapped: &str, owner_id: &str) -> Result<Cipher, CryptoError> {
        let key = self.unwrap_raw(wrapped, owner_id)?;
        Cipher::from_key(&key)
    }

    /// Re-wraps a data key that `self` wrapped under `next` (a master-key rotation); the data
    /// key itself, and so the data, stays as it is.
    ///
    /// # Errors
    /// As [`Cipher::open_data_key`].
    pub fn rewrap_data_key(
        &self,
        wrapped: &str,
        owner_id: &str,
        next: &Cipher,
    ) -> Result<String, CryptoError> {
        let key = self.unwrap_raw(wrapped, owner_id)?;
        Ok(next.wrap_data_key(&key, owner_id))
    }

    /// Whether `wrapped` is under this (the current) master key.
    pub fn wraps_currently(&self, wrapped: &str) -> bool {
        wrapped_key_id(wrapped) == Some(self.key_id.as_str())
    }

    /// A data key wrapped under a retired master key, re-wrapped under this one (`None` when it
    /// already is): the rotation step. The data key itself, and so the data, stays as it is.
    ///
    /// # Errors
    /// [`CryptoError::Undecryptable`] when neither this key nor a retired one wrapped it, or it
    /// belongs to another owner or was tampered with.
    pub fn rewrap_to_current(
        &self,
        wrapped: &str,
        owner_id: &str,
    ) -> Result<Option<String>, CryptoError> {
        if self.wraps_currently(wrapped) {
            return Ok(None);
        }
        let key = self.unwrap_raw(wrapped, owner_id)?;
        Ok(Some(self.wrap_data_key(&key, owner_id)))
    }

    fn wrap_data_key(&self, key: &[u8], owner_id: &str) -> String {
        let sealed = self.seal_text(&B64.encode(key), &wrap_context(owner_id));
        format!("{}:{sealed}", self.key_id)
    }

    fn unwrap_raw(&self, wrapped: &str, owner_id: &str) -> Result<Vec<u8>, CryptoError> {
        let (key_id, sealed) = wrapped.split_once(':').ok_or(CryptoError::Undecryptable)?;
        let master = self.by_key_id(key_id).ok_or(CryptoError::Undecryptable)?;
        let text = master.open_text(sealed, &wrap_context(owner_id))?;
        B64.decode(text).map_err(|_| CryptoError::Undecryptable)
    }
}

/// The id of the master key that wrapped `wrapped` (`None` when it is not a wrapped key).
pub fn wrapped_key_id(wrapped: &str) -> Option<&str> {
    wrapped.split_once(':').map(|(id, _)| id)
}

/// The public id of a master key.
pub(crate) fn master_key_id(key: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"verifa-master-key-id:");
    hasher.update(key);
    hex::encode(&hasher.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(byte: u8) -> Cipher {
        Cipher::from_key(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_data_key_opens_only_under_its_master_and_owner() {
        let m = master(1);
        let (key, wrapped) = m.new_data_key("ses_1");
        assert_eq!(wrapped_key_id(&wrapped), Some(m.key_id()));
        let sealed = key.seal(b"passport bytes", b"doc_1");
        let reopened = m.open_data_key(&wrapped, "ses_1").unwrap();
        assert_eq!(reopened.open(&sealed, b"doc_1").unwrap(), b"passport bytes");
        assert_eq!(
            m.open_data_key(&wrapped, "ses_2").err(),
            Some(CryptoError::Undecryptable)
        );
        assert_eq!(
            master(2).open_data_key(&wrapped, "ses_1").err(),
            Some(CryptoError::Undecryptable)
        );
        assert!(
            m.open(&sealed, b"doc_1").is_err(),
            "the master key alone does not open the data"
        );
    }

    #[test]
    fn rotation_rewraps_the_same_key() {
        let (old, new) = (master(1), master(2));
        let (key, wrapped) = old.new_data_key("ses_1");
        let sealed = key.seal_text("Jane Doe", "ctx");
        let rewrapped = old.rewrap_data_key(&wrapped, "ses_1", &new).unwrap();
        assert_eq!(wrapped_key_id(&rewrapped), Some(new.key_id()));
        assert_ne!(old.key_id(), new.key_id());
        let reopened = new.open_data_key(&rewrapped, "ses_1").unwrap();
        assert_eq!(reopened.open_text(&sealed, "ctx").unwrap(), "Jane Doe");
        assert!(old.open_data_key(&rewrapped, "ses_1").is_err());
    }

    #[test]
    fn a_retired_master_key_still_opens_and_is_rewrapped() {
        let (old, new) = (master(1), master(2));
        let (key, wrapped) = old.new_data_key("ses_1");
        let sealed = key.seal_text("Jane Doe", "ctx");
        let legacy = old.seal_text("run state", "run");
        let keyring = new.clone().with_retired(vec![old.clone()]);
        assert!(!keyring.wraps_currently(&wrapped));
        let opened = keyring.open_data_key(&wrapped, "ses_1").unwrap();
        assert_eq!(opened.open_text(&sealed, "ctx").unwrap(), "Jane Doe");
        assert_eq!(keyring.open_text(&legacy, "run").unwrap(), "run state");
        let rewrapped = keyring
            .rewrap_to_current(&wrapped, "ses_1")
            .unwrap()
            .unwrap();
        assert!(keyring.wraps_currently(&rewrapped));
        assert_eq!(keyring.rewrap_to_current(&rewrapped, "ses_1"), Ok(None));
        assert!(
            new.open_data_key(&rewrapped, "ses_1").is_ok(),
            "no longer needs the old key"
        );
        assert!(new.open_data_key(&wrapped, "ses_1").is_err());
        assert!(
            keyring.rewrap_to_current(&wrapped, "ses_2").is_err(),
            "bound to its owner"
        );
        assert!(
            new.open_text(&keyring.seal_text("x", "c"), "c").is_ok(),
            "the keyring seals with the current key"
        );
    }

    #[test]
    fn malformed_wrapped_keys_are_refused() {
        let m = master(1);
        for bad in [
            "",
            "no-colon",
            "abc:v1.x.y",
            &format!("{}:v1.AAAA.AAAA", m.key_id()),
        ] {
            assert!(m.open_data_key(bad, "ses_1").is_err(), "{bad}");
        }
    }
}
