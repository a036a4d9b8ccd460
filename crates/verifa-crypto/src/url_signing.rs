//! [`UrlSigner`]: HMAC-SHA256 signatures of expiring download links (CONTRACT §11.5), so a
//! document can be fetched by whoever holds its link until it expires, without an API key,
//! and a link edited in any byte is refused.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Shortest accepted signing key, in bytes.
pub const MIN_URL_KEY_BYTES: usize = 32;

/// The instance's secret key for download links.
#[derive(Clone)]
pub struct UrlSigner {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(<key hidden>)")
    }
}

impl UrlSigner {
    /// A signer with a key of at least [`MIN_URL_KEY_BYTES`] bytes.
    ///
    /// # Errors
    /// [`crate::CryptoError::BadKey`] when it is shorter.
    pub fn new(key: &[u8]) -> Result<Self, crate::CryptoError> {
        if key.len() < MIN_URL_KEY_BYTES {
            return Err(crate::CryptoError::BadKey);
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| crate::CryptoError::BadKey)?;
        Ok(Self { mac })
    }

    /// `hex(HMAC-SHA256(key, message))`, lower case.
    pub fn sign(&self, message: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is exactly the lower-case hex signature of `message` (a link edited
    /// in any byte, even to upper case, is refused), compared in constant time.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        if signature.bytes().any(|b| b.is_ascii_uppercase()) {
            return false;
        }
        let Ok(raw) = hex::decode(signature) else {
            return false;
        };
        let mut mac = self.mac.clone();
        mac.update(message.as_bytes());
        mac.verify_slice(&raw).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(byte: u8) -> UrlSigner {
        UrlSigner::new(&[byte; 32]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_signature_verifies_only_its_message_under_its_key() {
        let s = signer(1);
        let sig = s.sign("ses_1.id_front.1700000000");
        assert_eq!(sig.len(), 64);
        assert!(s.verify("ses_1.id_front.1700000000", &sig));
        assert!(!s.verify("ses_1.id_front.1700000000", &sig.to_uppercase()));
        assert!(!s.verify("ses_1.id_front.1700000001", &sig));
        assert!(!s.verify("ses_1.id_back.1700000000", &sig));
        assert!(!signer(2).verify("ses_1.id_front.1700000000", &sig));
        assert!(!s.verify("ses_1.id_front.1700000000", &sig[..62]));
        assert!(!s.verify("ses_1.id_front.1700000000", "not hex"));
        assert!(!s.verify("ses_1.id_front.1700000000", ""));
    }

    #[test]
    fn every_edited_character_of_a_signature_is_refused() {
        let s = signer(3);
        let sig = s.sign("m");
        for i in 0..sig.len() {
            let mut edited: Vec<u8> = sig.clone().into_bytes();
            edited[i] = if edited[i] == b'0' { b'1' } else { b'0' };
            let edited = String::from_utf8(edited).unwrap_or_default();
            assert!(!s.verify("m", &edited), "edited at {i}");
        }
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(UrlSigner::new(&[0; 31]).is_err());
        assert!(UrlSigner::new(&[0; 32]).is_ok());
    }
}
