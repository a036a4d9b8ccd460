//! Encryption at rest: the [`Cipher`] of `verifa-crypto`, shared with the database adapter, and
//! the [`LookupKey`] that keys identity-search hashes and the [`UrlSigner`] of download links.

pub use verifa_crypto::{Cipher, CryptoError, LookupKey, UrlSigner};
