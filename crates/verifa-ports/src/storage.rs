//! Blob storage for session documents (local disk, S3 or any S3-compatible store).
//!
//! The use cases encrypt every document before it reaches this port, so an adapter only ever
//! sees ciphertext and never needs to know what a document is. Keys are relative, `/`-separated
//! paths such as `org_x/sandbox/ses_y/doc_z`; [`validate_key`] is the one rule every adapter
//! applies before touching its backend.

use async_trait::async_trait;

/// Longest accepted key, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// Errors of a [`DocumentStorage`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// No object is stored under the key.
    #[error("no document is stored under this key")]
    NotFound,
    /// The key is not a safe relative path (see [`validate_key`]); nothing was read or written.
    #[error("invalid storage key: {0}")]
    InvalidKey(String),
    /// The backend failed or cannot be reached; the message is for logs, not for clients.
    #[error("document storage unavailable: {0}")]
    Unavailable(String),
}

/// Where encrypted document bytes live.
///
/// Every method MUST call [`validate_key`] first and return [`StorageError::InvalidKey`] without
/// touching the backend when it fails, so that no key can escape the adapter's root (no `..`,
/// no absolute path, no backslash, no empty segment).
#[async_trait]
pub trait DocumentStorage: Send + Sync {
    /// Stores `bytes` under `key`, replacing any previous object. The write MUST be atomic: a
    /// concurrent or later [`get`](Self::get) sees either the old or the new bytes in full, never
    /// a partial object.
    ///
    /// # Errors
    /// [`StorageError::InvalidKey`] for a key rejected by [`validate_key`];
    /// [`StorageError::Unavailable`] when the backend fails.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError>;

    /// Reads the bytes stored under `key`.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] when nothing is stored under the key (MUST be distinct from a
    /// backend failure); [`StorageError::InvalidKey`] for a rejected key;
    /// [`StorageError::Unavailable`] when the backend fails.
    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError>;

    /// Removes the object under `key`. Deleting an absent key is not an error (object stores
    /// such as S3 cannot tell the difference), so retrying a delete is safe.
    ///
    /// # Errors
    /// [`StorageError::InvalidKey`] for a rejected key; [`StorageError::Unavailable`] when the
    /// backend fails.
    async fn delete(&self, key: &str) -> Result<(), StorageError>;

    /// Backend name for logs and health output (`local_fs`, `s3`, `memory`, …).
    fn backend(&self) -> &'static str;
}

/// Checks that `key` is a safe relative object key: 1 to [`MAX_KEY_LEN`] bytes, `/`-separated
/// segments that are each non-empty, not `.` or `..`, and made only of ASCII letters, digits,
/// `_`, `-` and `.`; the key contains no `..` at all. This rules out absolute paths, traversal,
/// backslashes, drive letters, control characters and empty segments (`a//b`, trailing `/`).
///
/// # Errors
/// [`StorageError::InvalidKey`] naming the first rule the key breaks.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    let invalid = |why: &str| Err(StorageError::InvalidKey(why.to_owned()));
    if key.is_empty() {
        return invalid("the key is empty");
    }
    if key.len() > MAX_KEY_LEN {
        return invalid("the key is too long");
    }
    if key.starts_with('/') {
        return invalid("the key must be relative, not start with '/'");
    }
    if key.contains('\\') {
        return invalid("the key must not contain a backslash");
    }
    if key.contains("..") {
        return invalid("the key must not contain '..'");
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return invalid("the key must not contain an empty segment");
        }
        if segment == "." {
            return invalid("the key must not contain a '.' segment");
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return invalid(
                "key segments may contain only ASCII letters, digits, '_', '-' and '.'",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_document_keys() {
        for key in [
            "org_x/sandbox/ses_y/doc_z",
            "org_1/live/ses_2/doc_3.jpg",
            "a",
            "a-b_c.d/e",
        ] {
            assert_eq!(validate_key(key), Ok(()), "{key}");
        }
    }

    #[test]
    fn rejects_unsafe_keys() {
        let long = "a".repeat(MAX_KEY_LEN + 1);
        for key in [
            "",
            "../x",
            "a/../b",
            "a/..",
            "..",
            "a..b",
            "/abs",
            "/",
            "a//b",
            "a/",
            "./a",
            "a/./b",
            "a\\b",
            "..\\x",
            "C:/x",
            "a b",
            "a\0b",
            "a\nb",
            "é",
            long.as_str(),
        ] {
            assert!(
                matches!(validate_key(key), Err(StorageError::InvalidKey(_))),
                "{key:?} should be rejected"
            );
        }
    }
}
