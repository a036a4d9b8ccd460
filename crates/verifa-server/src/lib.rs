//! The `verifa` binary's library: configuration, telemetry and the composition root — the one
//! place that knows the concrete adapters and wires them into the use cases and the router.

pub mod background;
pub mod commands;
pub mod compose;
pub mod settings;
pub mod telemetry;

pub use compose::{Application, build_application};
