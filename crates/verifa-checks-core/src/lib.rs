//! Pure verification-check algorithms for Verifa.
//!
//! Everything here is deterministic and side-effect free: no IO beyond parsing text handed in by
//! the caller, no clock (the caller passes "today"), no randomness, no async. Executors in the
//! application layer wrap these functions and map their results onto check statuses.
//!
//! - [`mrz`]: ICAO 9303 machine-readable-zone parsing and check-digit validation.
//! - [`names`]: name normalisation (accents, transliteration) and fuzzy similarity.
//! - [`screening`]: an in-memory trigram index for watchlist screening.
//! - [`importers`]: OFAC SDN and simple-CSV watchlist parsers.
//! - [`partial_date`]: `YYYY` / `YYYY-MM` / `YYYY-MM-DD` dates as watchlists publish them.
//! - [`age`]: age on a date and the `age_verification` rule.
//! - [`expiry`]: the `document_expiration` rule.

pub mod age;
pub mod expiry;
pub mod importers;
pub mod mrz;
pub mod names;
pub mod partial_date;
pub mod screening;

pub use importers::WatchlistEntry;
