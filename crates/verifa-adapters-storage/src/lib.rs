//! Document storage adapters implementing [`verifa_ports::storage::DocumentStorage`].
//!
//! Documents arrive here already encrypted by the use cases (AES-256-GCM), so these adapters
//! store opaque ciphertext and never log its content.
//!
//! - [`LocalFsStorage`]: files under a root directory, written atomically (temporary file in the
//!   same directory, fsync, rename, fsync of the directory), mode `0600` on unix.
//! - [`ObjectStoreStorage`]: any [`object_store::ObjectStore`]; [`ObjectStoreStorage::from_url`]
//!   builds one from `s3://bucket/prefix` (AWS S3 or an S3-compatible store such as MinIO),
//!   `memory://` (tests) or `file:///path`.
//!
//! Both check every key with [`verifa_ports::storage::validate_key`] before touching the backend.

pub mod local;
pub mod object;

pub use local::LocalFsStorage;
pub use object::{ObjectStoreStorage, StorageConfigError};
