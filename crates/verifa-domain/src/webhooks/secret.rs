//! Endpoint signing secrets: `whsec_` followed by the base62 encoding of 24–64 random bytes
//! (Standard Webhooks' 192–512 bits). The caller supplies the random bytes (the domain has no
//! randomness); 32 bytes give a 43-character body.
//!
//! The whole string, prefix included, is the HMAC key ([`super::signature`]). For secrets
//! created elsewhere (e.g. imported Standard Webhooks secrets in base64), [`validate_secret`]
//! also accepts a base64 body.

/// Prefix of every endpoint secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Fewest random bytes in a secret.
pub const MIN_SECRET_BYTES: usize = 24;
/// Most random bytes in a secret.
pub const MAX_SECRET_BYTES: usize = 64;
/// Random bytes a caller should supply by default.
pub const DEFAULT_SECRET_BYTES: usize = 32;
/// Shortest accepted body after the prefix (24 bytes in base62 = 33 characters; base64 = 32).
pub const MIN_SECRET_BODY_LEN: usize = 32;
/// Longest accepted body after the prefix.
pub const MAX_SECRET_BODY_LEN: usize = 128;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a secret could not be generated or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Too few or too many random bytes supplied.
    #[error("a webhook secret needs {MIN_SECRET_BYTES}..={MAX_SECRET_BYTES} random bytes, got {0}")]
    RandomLength(usize),
    /// The string does not start with `whsec_`.
    #[error("webhook secrets start with 'whsec_'")]
    MissingPrefix,
    /// The part after the prefix is too short or too long.
    #[error("webhook secret has the wrong length")]
    Length,
    /// The part after the prefix has characters outside base62/base64.
    #[error("webhook secret has invalid characters")]
    Charset,
}

/// Number of base62 digits needed for `n` bytes: the least `k` with `62^k ≥ 256^n`.
fn base62_len(n: usize) -> usize {
    // log2(62) ≈ 5.954196; 8n / log2(62) rounded up. Exact for the 24..=64 range (tested).
    (n * 8 * 1_000_000).div_ceil(5_954_196)
}

/// Big-endian base62 of `bytes`, left-padded with `0` to a fixed length for the byte count.
fn base62(bytes: &[u8]) -> String {
    let mut number: Vec<u8> = bytes.to_vec();
    let mut digits: Vec<u8> = Vec::with_capacity(base62_len(bytes.len()));
    while number.iter().any(|&b| b != 0) {
        let mut remainder: u32 = 0;
        for byte in number.iter_mut() {
            let acc = (remainder << 8) | u32::from(*byte);
            *byte = u8::try_from(acc / 62).unwrap_or(0);
            remainder = acc % 62;
        }
        digits.push(BASE62.get(remainder as usize).copied().unwrap_or(b'0'));
    }
    while digits.len() < base62_len(bytes.len()) {
        digits.push(b'0');
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

/// Builds a new secret from `random` (24–64 bytes from a CSPRNG).
pub fn generate_secret(random: &[u8]) -> Result<String, SecretError> {
    if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&random.len()) {
        return Err(SecretError::RandomLength(random.len()));
    }
    Ok(format!("{SECRET_PREFIX}{}", base62(random)))
}

/// Checks the format of a secret (prefix, length, base62 or base64 characters).
pub fn validate_secret(secret: &str) -> Result<(), SecretError> {
    let body = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or(SecretError::MissingPrefix)?;
    if !(MIN_SECRET_BODY_LEN..=MAX_SECRET_BODY_LEN).contains(&body.len()) {
        return Err(SecretError::Length);
    }
    let trimmed = body.trim_end_matches('=');
    if body.len() - trimmed.len() > 2
        || !trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
    {
        return Err(SecretError::Charset);
    }
    Ok(())
}

/// A display form that reveals only the prefix and the first 4 characters: `whsec_AbCd…`.
pub fn mask_secret(secret: &str) -> String {
    let body = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let shown: String = body.chars().take(4).collect();
    format!("{SECRET_PREFIX}{shown}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_the_documented_shape() {
        let s = generate_secret(&[7u8; 32]).unwrap();
        assert!(s.starts_with("whsec_"));
        assert_eq!(s.len(), 6 + 43);
        assert!(validate_secret(&s).is_ok());
        assert_eq!(
            generate_secret(&[0u8; 24]).unwrap(),
            format!("whsec_{}", "0".repeat(33))
        );
        let max = generate_secret(&[0xFF; 24]).unwrap();
        assert_eq!(max.len(), 6 + 33);
        assert!(validate_secret(&max).is_ok());
        assert_ne!(generate_secret(&[1u8; 32]), generate_secret(&[2u8; 32]));
    }

    #[test]
    fn base62_is_a_correct_number_conversion() {
        // 2 bytes always give 3 digits.
        assert_eq!(base62(&[0, 61]), "00z");
        assert_eq!(base62(&[0, 62]), "010");
        assert_eq!(base62(&[1, 0]), "048"); // 256 = 4 * 62 + 8
        assert_eq!(base62(&[0xFF, 0xFF]), "H31"); // 65535 = 17 * 3844 + 3 * 62 + 1
    }

    #[test]
    fn base62_length_is_minimal_and_sufficient() {
        for n in MIN_SECRET_BYTES..=MAX_SECRET_BYTES {
            let k = base62_len(n);
            // 62^k >= 256^n and 62^(k-1) < 256^n, compared in log space with margin.
            let bits = 8.0 * n as f64;
            let l = 62f64.log2();
            assert!(k as f64 * l >= bits, "{n}");
            assert!((k - 1) as f64 * l < bits, "{n}");
            assert_eq!(base62(&vec![0xFF; n]).len(), k);
        }
    }

    #[test]
    fn random_length_is_enforced() {
        assert_eq!(
            generate_secret(&[1; 23]),
            Err(SecretError::RandomLength(23))
        );
        assert_eq!(
            generate_secret(&[1; 65]),
            Err(SecretError::RandomLength(65))
        );
        assert!(generate_secret(&[1; 64]).is_ok());
    }

    #[test]
    fn validation() {
        assert_eq!(validate_secret("abc"), Err(SecretError::MissingPrefix));
        assert_eq!(validate_secret("whsec_short"), Err(SecretError::Length));
        assert_eq!(
            validate_secret(&format!("whsec_{}", "a!".repeat(20))),
            Err(SecretError::Charset)
        );
        // Standard Webhooks style base64 secret.
        assert!(validate_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").is_ok());
        assert_eq!(mask_secret("whsec_AbCdEfGh"), "whsec_AbCd…");
    }
}
