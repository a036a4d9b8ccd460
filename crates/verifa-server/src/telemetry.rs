//! Logging: human-readable in development, JSON in production. `RUST_LOG` overrides the level.
//! Request spans carry ids, method, route, status and latency only — never headers or bodies,
//! so API keys and PII cannot reach the log stream.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Installs the global subscriber. Safe to call once; later calls are ignored.
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{level},sqlx=warn,sea_orm=warn,sea_orm_migration=warn"
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::NONE)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}
