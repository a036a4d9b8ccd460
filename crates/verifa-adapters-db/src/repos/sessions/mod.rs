//! The session ports on sea-orm: [`SessionStore`](verifa_ports::sessions::SessionStore),
//! [`SessionDocuments`](verifa_ports::sessions::SessionDocuments) and
//! [`SessionEventLog`](verifa_ports::sessions::SessionEventLog) and
//! [`SessionRedaction`](verifa_ports::sessions::SessionRedaction) and
//! [`DataKeyStore`](verifa_ports::sessions::DataKeyStore). Every state change is one
//! transaction written by [`change::apply_in`].

pub(crate) mod change;
mod documents;
mod keys;
mod log;
mod redaction;
pub(crate) mod rows;
mod store;
