//! Random secrets (base62), drawn from the operating system's CSPRNG.

use rand::Rng;
use rand::distr::Alphanumeric;

/// A random base62 string of `len` characters.
pub fn random_base62(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_base62_and_distinct() {
        let a = super::random_base62(40);
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, super::random_base62(40));
    }
}
