//! [`DocumentStorage`] in memory, validating keys as every adapter must.

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use verifa_ports::storage::{DocumentStorage, StorageError, validate_key};

/// Document bytes in memory.
#[derive(Debug, Default)]
pub struct MemoryBlobs {
    blobs: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryBlobs {
    /// No blobs.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stored keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.blobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }
}

#[async_trait]
impl DocumentStorage for MemoryBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        validate_key(key)?;
        self.blobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), bytes);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        validate_key(key)?;
        self.blobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
            .ok_or(StorageError::NotFound)
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        self.blobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
