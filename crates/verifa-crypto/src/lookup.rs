//! [`LookupKey`]: keyed hashes that let the service find a person by their data without storing
//! that data in clear (CONTRACT §7.3). A lookup hash is
//! `hex(HMAC-SHA256(key, "<field>:<normal form>"))`: equal values collide only within one field,
//! and without the instance's key nobody can test a guess against the stored hashes.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Shortest accepted lookup key, in bytes.
pub const MIN_LOOKUP_KEY_BYTES: usize = 32;

/// The instance's secret lookup key.
#[derive(Clone)]
pub struct LookupKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for LookupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupKey(<key hidden>)")
    }
}

impl LookupKey {
    /// A key of at least [`MIN_LOOKUP_KEY_BYTES`] bytes.
    ///
    /// # Errors
    /// [`crate::CryptoError::BadKey`] when it is shorter.
    pub fn new(key: &[u8]) -> Result<Self, crate::CryptoError> {
        if key.len() < MIN_LOOKUP_KEY_BYTES {
            return Err(crate::CryptoError::BadKey);
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| crate::CryptoError::BadKey)?;
        Ok(Self { mac })
    }

    /// The lookup hash of an already normalised value of `field`.
    pub fn hash(&self, field: &str, normalized: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(field.as_bytes());
        mac.update(b":");
        mac.update(normalized.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> LookupKey {
        LookupKey::new(&[byte; 32]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn hashes_are_stable_keyed_and_separated_by_field() {
        let k = key(7);
        let h = k.hash("email", "jane@example.com");
        assert_eq!(h.len(), 64);
        assert_eq!(h, k.hash("email", "jane@example.com"));
        assert_ne!(h, key(8).hash("email", "jane@example.com"));
        assert_ne!(k.hash("first_name", "jane"), k.hash("last_name", "jane"));
        assert!(!h.contains("jane"));
    }

    #[test]
    fn short_keys_are_refused_and_never_printed() {
        assert!(LookupKey::new(&[1; 31]).is_err());
        assert_eq!(format!("{:?}", key(1)), "LookupKey(<key hidden>)");
    }
}
