//! In-memory fakes of every Verifa port, in one place.
//!
//! [`MemoryStore`] implements every store port over one [`World`](state) behind a mutex, so a
//! session change, its events, its result and its run are applied atomically just as a database
//! transaction would apply them, and every MUST clause of the ports holds (compare-and-set on
//! status, revision fences, exclusive claims, the fan-out cursor, tenant isolation). The
//! repository contract suite (`verifa-testkit::contract`) runs against it as well as against
//! SQLite and Postgres, which keeps the fakes honest.
//!
//! The other fakes: [`ManualClock`] (time that moves only when told), [`MemoryBlobs`]
//! (document storage), [`RecordingTransport`] (webhook HTTP that records and answers as told),
//! [`InMemoryWatchlistRepository`] and [`InMemoryDuplicateIndex`] (the check executors'
//! stores), [`PlainSandbox`] (sandbox check results for dry-runs and simulations).

mod api_keys;
mod audit;
mod blobs;
mod cases;
mod change;
mod clock;
mod duplicates;
mod health;
mod idempotency;
mod identities;
mod org_users;
mod organizations;
mod redaction;
mod runs;
mod sandbox;
mod sessions;
mod settings;
mod state;
mod transport;
mod watchlists;
mod webhooks;
mod workflows;

pub use blobs::MemoryBlobs;
pub use clock::ManualClock;
pub use duplicates::InMemoryDuplicateIndex;
pub use sandbox::PlainSandbox;
pub use state::MemoryStore;
pub use transport::RecordingTransport;
pub use watchlists::InMemoryWatchlistRepository;
