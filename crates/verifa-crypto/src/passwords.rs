//! Password hashing for organization users: argon2id with m = 19 MiB, t = 2, p = 1 (CONTRACT
//! §6.1, OWASP's minimum), stored as a PHC string so the parameters travel with the hash and
//! can be raised later without invalidating old hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

/// Memory cost in KiB.
const MEMORY_KIB: u32 = 19 * 1024;
/// Passes.
const ITERATIONS: u32 = 2;
/// Lanes.
const PARALLELISM: u32 = 1;

fn hasher() -> Result<Argon2<'static>, argon2::Error> {
    Ok(Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)?,
    ))
}

/// Hashing failed (parameters or salt rejected by the library; not expected in practice).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password` with a fresh random salt.
///
/// # Errors
/// [`HashError`] if the library refuses the parameters.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    let hasher = hasher().map_err(|e| HashError(e.to_string()))?;
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (a malformed hash matches nothing).
pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    // The parameters come from the hash itself, so older hashes keep verifying.
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_names_its_parameters() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
    }
}
