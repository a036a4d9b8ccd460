//! Encryption at rest: the [`Cipher`] of `verifa-crypto`, shared with the database adapter.

pub use verifa_crypto::{Cipher, CryptoError};
