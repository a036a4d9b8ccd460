//! Encryption at rest (AES-256-GCM) for documents, PII fields, run state, check outputs and
//! webhook secrets, under per-session data keys ([`data_keys`]) or the master key; [`passwords`] hashes organization users' passwords (argon2id); [`lookup`]
//! keys the hashes that identity searches match; [`url_signing`] signs expiring download links.
//!
//! Each value gets a fresh random 96-bit nonce. Text values are stored as
//! `v1.<base64 nonce>.<base64 ciphertext+tag>`; the version prefix leaves room for key rotation.
//! The associated data binds a ciphertext to its purpose (e.g. the document id), so a value
//! copied into another row does not decrypt there.

pub mod data_keys;
pub mod lookup;
pub mod passwords;
pub mod url_signing;

pub use lookup::LookupKey;
pub use url_signing::UrlSigner;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;

/// Errors of the cipher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The configured key is not 32 bytes of base64.
    #[error("the encryption key must be 32 bytes, base64-encoded")]
    BadKey,
    /// The value was not produced by this cipher, was tampered with, or the key differs.
    #[error("the value cannot be decrypted (wrong key, wrong context or tampered data)")]
    Undecryptable,
}

/// AES-256-GCM with one key, which seals, and the retired keys it replaced, which still open
/// what they sealed (a master-key rotation: see [`Cipher::with_retired`]).
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
    key_id: String,
    retired: std::sync::Arc<Vec<Cipher>>,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<key hidden>)")
    }
}

const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 12;

impl Cipher {
    /// A cipher from a base64 key of 32 bytes.
    pub fn from_base64_key(key: &str) -> Result<Self, CryptoError> {
        let bytes = B64.decode(key.trim()).map_err(|_| CryptoError::BadKey)?;
        Self::from_key(&bytes)
    }

    /// A cipher from 32 raw key bytes.
    pub fn from_key(key: &[u8]) -> Result<Self, CryptoError> {
        let key: &[u8; 32] = key.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self::from_array(key))
    }

    /// A cipher from a 256-bit key (infallible: the size is the type's).
    pub(crate) fn from_array(key: &[u8; 32]) -> Self {
        Self {
            aead: Aes256Gcm::new(key.into()),
            key_id: data_keys::master_key_id(key),
            retired: std::sync::Arc::default(),
        }
    }

    /// The same cipher, also opening what the `retired` keys sealed (never sealing with them):
    /// after a master-key rotation the new key seals, and the old ones stay readable until
    /// nothing under them is left.
    pub fn with_retired(mut self, retired: Vec<Cipher>) -> Self {
        let own = self.key_id.clone();
        self.retired = std::sync::Arc::new(
            retired
                .into_iter()
                .filter(|c| c.key_id != own)
                .map(|c| Cipher {
                    retired: std::sync::Arc::default(),
                    ..c
                })
                .collect(),
        );
        self
    }

    /// The key sealing under `key_id`, this one or a retired one.
    fn by_key_id(&self, key_id: &str) -> Option<&Cipher> {
        if self.key_id == key_id {
            return Some(self);
        }
        self.retired.iter().find(|c| c.key_id == key_id)
    }

    /// Encrypts bytes; the output is nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .unwrap_or_default(); // AES-GCM encryption only fails past 64 GiB.
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts the output of [`Cipher::seal`], by this key or a retired one.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (nonce, ciphertext) = sealed
            .split_at_checked(NONCE_LEN)
            .ok_or(CryptoError::Undecryptable)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Undecryptable)?;
        std::iter::once(self)
            .chain(self.retired.iter())
            .find_map(|c| {
                c.aead
                    .decrypt(
                        &Nonce::from(nonce),
                        Payload {
                            msg: ciphertext,
                            aad: context,
                        },
                    )
                    .ok()
            })
            .ok_or(CryptoError::Undecryptable)
    }

    /// Encrypts text into the storable `v1.…` form.
    pub fn seal_text(&self, plaintext: &str, context: &str) -> String {
        let sealed = self.seal(plaintext.as_bytes(), context.as_bytes());
        let (nonce, ct) = sealed.split_at(NONCE_LEN.min(sealed.len()));
        format!("{PREFIX}{}.{}", B64.encode(nonce), B64.encode(ct))
    }

    /// Whether `stored` has the form [`Cipher::seal_text`] produces (rows written in clear by an
    /// older release do not).
    pub fn is_sealed_text(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }

    /// Decrypts the output of [`Cipher::seal_text`].
    pub fn open_text(&self, stored: &str, context: &str) -> Result<String, CryptoError> {
        let rest = stored
            .strip_prefix(PREFIX)
            .ok_or(CryptoError::Undecryptable)?;
        let (nonce, ct) = rest.split_once('.').ok_or(CryptoError::Undecryptable)?;
        let mut sealed = B64.decode(nonce).map_err(|_| CryptoError::Undecryptable)?;
        sealed.extend(B64.decode(ct).map_err(|_| CryptoError::Undecryptable)?);
        let plain = self.open(&sealed, context.as_bytes())?;
        String::from_utf8(plain).map_err(|_| CryptoError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::from_key(&[7u8; 32]).unwrap()
    }

    #[test]
    fn round_trips_and_binds_the_context() {
        let c = cipher();
        let stored = c.seal_text("Jane Doe", "session:ses_1");
        assert!(stored.starts_with("v1.") && !stored.contains("Jane"));
        assert_eq!(c.open_text(&stored, "session:ses_1").unwrap(), "Jane Doe");
        assert_eq!(
            c.open_text(&stored, "session:ses_2"),
            Err(CryptoError::Undecryptable)
        );
        assert_ne!(
            c.seal_text("Jane Doe", "x"),
            c.seal_text("Jane Doe", "x"),
            "fresh nonce each time"
        );
        let bytes = c.seal(b"\x89PNG...", b"doc_1");
        assert_eq!(c.open(&bytes, b"doc_1").unwrap(), b"\x89PNG...");
    }

    #[test]
    fn rejects_bad_keys_and_tampering() {
        assert_eq!(
            Cipher::from_base64_key("short").unwrap_err(),
            CryptoError::BadKey
        );
        let c = cipher();
        let mut sealed = c.seal(b"secret", b"");
        if let Some(b) = sealed.last_mut() {
            *b ^= 1;
        }
        assert_eq!(c.open(&sealed, b""), Err(CryptoError::Undecryptable));
        assert_eq!(c.open(b"tiny", b""), Err(CryptoError::Undecryptable));
        assert_eq!(c.open_text("plain", ""), Err(CryptoError::Undecryptable));
        let other = Cipher::from_key(&[8u8; 32]).unwrap();
        assert_eq!(
            other.open_text(&c.seal_text("x", ""), ""),
            Err(CryptoError::Undecryptable)
        );
    }
}
