//! The session ports on sea-orm: [`SessionStore`](verifa_ports::sessions::SessionStore),
//! [`SessionDocuments`](verifa_ports::sessions::SessionDocuments) and
//! [`SessionEventLog`](verifa_ports::sessions::SessionEventLog) and
//! [`SessionRedaction`](verifa_ports::sessions::SessionRedaction). Every state change is one
//! transaction written by [`change::apply_in`].

pub(crate) mod change;
mod documents;
mod log;
mod redaction;
pub(crate) mod rows;
mod store;
