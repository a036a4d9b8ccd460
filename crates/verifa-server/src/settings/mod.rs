//! Typed configuration (config-rs): compiled-in defaults, then files from `VERIFA_CONFIG_DIR`
//! (`default.toml`, `{VERIFA_ENV}.toml`, `local.toml`), then `VERIFA__SECTION__KEY` variables.
//! Validated once at start; secrets are wrapped so they never print.

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

mod secrets;

pub use secrets::{DEV_ENCRYPTION_KEY, DEV_LOOKUP_KEY, DEV_URL_SIGNING_KEY, SecuritySettings};

const DEFAULT_TOML: &str = include_str!("../../../../config/default.toml");
const DEVELOPMENT_TOML: &str = include_str!("../../../../config/development.toml");
const TEST_TOML: &str = include_str!("../../../../config/test.toml");
const PRODUCTION_TOML: &str = include_str!("../../../../config/production.toml");

/// The deployment environment (`VERIFA_ENV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnvironment {
    /// Local development (default).
    Development,
    /// Automated tests.
    Test,
    /// Production.
    Production,
}

impl RunEnvironment {
    /// Name as in `VERIFA_ENV`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunEnvironment::Development => "development",
            RunEnvironment::Test => "test",
            RunEnvironment::Production => "production",
        }
    }

    fn compiled_overrides(self) -> &'static str {
        match self {
            RunEnvironment::Development => DEVELOPMENT_TOML,
            RunEnvironment::Test => TEST_TOML,
            RunEnvironment::Production => PRODUCTION_TOML,
        }
    }
}

/// Configuration errors, with messages that say what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Unknown `VERIFA_ENV`.
    #[error("VERIFA_ENV must be development, test or production, got '{0}'")]
    UnknownEnvironment(String),
    /// A source could not be read or merged.
    #[error("configuration could not be loaded: {0}")]
    Load(#[from] config::ConfigError),
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    /// Listen address.
    pub addr: String,
    /// Public base URL.
    pub public_url: String,
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_grace_secs: u64,
    /// Per-request timeout.
    pub request_timeout_secs: u64,
    /// Trust `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Connection URL (may hold a password: never printed).
    pub url: SecretString,
    /// Pool maximum.
    pub max_connections: u32,
    /// Pool minimum.
    pub min_connections: u32,
    /// Wait for a connection.
    pub acquire_timeout_secs: u64,
    /// Migrate when serving starts.
    pub migrate_on_start: bool,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// Filter directive.
    pub level: String,
}

/// `[api]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiSettings {
    /// Current version.
    pub current_version: String,
    /// Accepted versions.
    pub known_versions: Vec<String>,
    /// Retired versions.
    pub retired_versions: Vec<String>,
    /// JSON body limit.
    pub max_body_bytes: usize,
    /// Plan reported by `/rate-limits`.
    pub plan: String,
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    /// General budget per key per minute.
    pub requests_per_minute: u32,
    /// Session creation per key per minute.
    pub session_create_per_minute: u32,
    /// Publishable keys per minute.
    pub publishable_per_minute: u32,
}

/// `[idempotency]`.
#[derive(Debug, Clone, Deserialize)]
pub struct IdempotencySettings {
    /// Replay window.
    pub ttl_hours: i64,
    /// Claim lock.
    pub lock_seconds: i64,
    /// Sweep period.
    pub sweep_interval_secs: u64,
}

/// `[bootstrap]`.
#[derive(Debug, Clone, Deserialize)]
pub struct BootstrapSettings {
    /// Create the first organization on an empty database.
    pub enabled: bool,
}

/// Development/test fallback for `checks.duplicate_hash_key` (public, so refused in production).
pub const DEV_DUPLICATE_HASH_KEY: &str = "verifa-development-duplicate-hash-key-not-secret";
/// Shortest accepted `checks.duplicate_hash_key`, in bytes.
pub const MIN_DUPLICATE_HASH_KEY_BYTES: usize = 32;

/// `[checks.vendor]`: the HTTP vendor for vendor-backed policies.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckVendorSettings {
    /// Base URL, `https://…` (`http://` allowed outside production).
    pub base_url: String,
    /// Bearer token (secret).
    #[serde(default = "empty_secret")]
    pub api_key: SecretString,
    /// Whole-request timeout.
    #[serde(default = "default_vendor_timeout")]
    pub timeout_secs: u64,
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

fn default_vendor_timeout() -> u64 {
    10
}

/// `[checks]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChecksSettings {
    /// HMAC key for duplicate-detection fingerprints (secret). Empty → a public development key
    /// in development and test; production must set its own (empty there disables the check).
    pub duplicate_hash_key: SecretString,
    /// Default `watchlist_screening` similarity threshold, in (0, 1].
    pub screening_threshold: f64,
    /// The vendor, when `[checks.vendor] base_url` is configured.
    #[serde(default)]
    pub vendor: Option<CheckVendorSettings>,
}

/// `[webhooks]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebhooksSettings {
    /// Allow http and private/loopback destinations (development and tests only).
    pub allow_private_networks: bool,
    /// Dispatcher pause when idle.
    pub poll_interval_ms: u64,
    /// Delivery lease.
    pub lease_secs: i64,
    /// Dispatcher loops per process.
    pub workers: usize,
    /// Rows per fan-out / delivery step.
    pub batch_size: u64,
}

impl Default for WebhooksSettings {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            poll_interval_ms: 100,
            lease_secs: 90,
            workers: 2,
            batch_size: 100,
        }
    }
}

/// `[sessions]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SessionsSettings {
    /// Capture token lifetime in minutes.
    pub capture_ttl_minutes: i64,
}

impl Default for SessionsSettings {
    fn default() -> Self {
        Self {
            capture_ttl_minutes: 20,
        }
    }
}

/// `[storage]`: where document bytes (encrypted) are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    /// Empty: the local folder `path`. Otherwise an object-store URL: `s3://bucket/prefix`,
    /// `file:///abs/path` or `memory://`.
    pub url: String,
    /// Local folder used when `url` is empty.
    pub path: String,
    /// Options of the object store (`region`, `endpoint`, `access_key_id`, …).
    pub options: std::collections::BTreeMap<String, String>,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            path: "./data/documents".into(),
            options: Default::default(),
        }
    }
}

/// `[runs]`: workflow run workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RunsSettings {
    /// Worker loops per process (processes share the work through leases).
    pub workers: usize,
    /// Pause of an idle worker.
    pub poll_interval_ms: u64,
    /// How long a claimed run stays reserved without renewal.
    pub lease_secs: i64,
    /// Retry backoff of `requires_retry` checks, in seconds (the last value repeats).
    pub retry_backoff_secs: Vec<u64>,
}

impl Default for RunsSettings {
    fn default() -> Self {
        Self {
            workers: 8,
            poll_interval_ms: 200,
            lease_secs: 60,
            retry_backoff_secs: vec![1, 2, 4, 8],
        }
    }
}

/// `[audit]`: the audit trail.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// How often the background sealer moves queued events into their chains.
    pub seal_interval_ms: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            seal_interval_ms: 100,
        }
    }
}

/// All settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// API conventions.
    pub api: ApiSettings,
    /// Rate limits.
    pub rate_limit: RateLimitSettings,
    /// Idempotency.
    pub idempotency: IdempotencySettings,
    /// First-start bootstrap.
    pub bootstrap: BootstrapSettings,
    /// Verification checks.
    pub checks: ChecksSettings,
    /// Encryption at rest.
    #[serde(default)]
    pub security: SecuritySettings,
    /// Webhook delivery.
    #[serde(default)]
    pub webhooks: WebhooksSettings,
    /// Sessions and capture.
    #[serde(default)]
    pub sessions: SessionsSettings,
    /// Document storage.
    #[serde(default)]
    pub storage: StorageSettings,
    /// Workflow run workers.
    #[serde(default)]
    pub runs: RunsSettings,
    /// The audit trail.
    #[serde(default)]
    pub audit: AuditSettings,
    /// Which environment was loaded (not a config key).
    #[serde(skip, default = "default_env")]
    pub environment: Option<RunEnvironment>,
}

fn default_env() -> Option<RunEnvironment> {
    None
}

impl Settings {
    /// Loads from the process environment (`VERIFA_ENV`, `VERIFA_CONFIG_DIR`, `VERIFA__*`).
    pub fn load() -> Result<Self, SettingsError> {
        let env_name = std::env::var("VERIFA_ENV").unwrap_or_else(|_| "development".into());
        let dir = std::env::var("VERIFA_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("config"));
        Self::load_from(
            &env_name,
            &dir,
            Environment::with_prefix("VERIFA")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
    }

    /// Loads with explicit inputs (tests).
    pub fn load_from(
        env_name: &str,
        dir: &std::path::Path,
        env_source: Environment,
    ) -> Result<Self, SettingsError> {
        let run_env = match env_name {
            "development" => RunEnvironment::Development,
            "test" => RunEnvironment::Test,
            "production" => RunEnvironment::Production,
            other => return Err(SettingsError::UnknownEnvironment(other.to_owned())),
        };
        let config = Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .add_source(File::from_str(
                run_env.compiled_overrides(),
                FileFormat::Toml,
            ))
            .add_source(File::from(dir.join("default.toml")).required(false))
            .add_source(File::from(dir.join(format!("{}.toml", run_env.as_str()))).required(false))
            .add_source(File::from(dir.join("local.toml")).required(false))
            .add_source(env_source)
            .build()?;
        let mut settings: Settings = config.try_deserialize()?;
        settings.environment = Some(run_env);
        settings.validate()?;
        Ok(settings)
    }

    /// Test settings: compiled defaults for `VERIFA_ENV=test`, the given database URL, and
    /// `VERIFA__…`-style overrides (`("RATE_LIMIT__REQUESTS_PER_MINUTE", "3")`). The process
    /// environment is not read, so parallel tests cannot disturb each other.
    pub fn for_tests(
        database_url: &str,
        overrides: &[(&str, &str)],
    ) -> Result<Self, SettingsError> {
        let mut vars: std::collections::HashMap<String, String> = overrides
            .iter()
            .map(|(k, v)| (format!("VERIFA__{k}"), (*v).to_owned()))
            .collect();
        vars.insert("VERIFA__DATABASE__URL".into(), database_url.to_owned());
        vars.insert("VERIFA__BOOTSTRAP__ENABLED".into(), "false".into());
        vars.entry("VERIFA__STORAGE__URL".into())
            .or_insert_with(|| "memory://".into());
        let source = Environment::with_prefix("VERIFA")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("api.retired_versions")
            .with_list_parse_key("runs.retry_backoff_secs")
            .with_list_parse_key("api.known_versions")
            .source(Some(vars));
        Self::load_from(
            "test",
            std::path::Path::new("/nonexistent-verifa-config"),
            source,
        )
    }

    /// The loaded environment.
    pub fn run_environment(&self) -> RunEnvironment {
        self.environment.unwrap_or(RunEnvironment::Development)
    }

    /// Checks ranges and consistency.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |m: String| Err(SettingsError::Invalid(m));
        if self.server.addr.parse::<SocketAddr>().is_err() {
            return bad(format!(
                "server.addr '{}' is not an address like 127.0.0.1:8080",
                self.server.addr
            ));
        }
        let url = self.database.url.expose_secret();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return bad("database.url must start with sqlite:// or postgres://".into());
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections must be at least 1".into());
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return bad(format!(
                "log.format must be 'pretty' or 'json', got '{}'",
                self.log.format
            ));
        }
        if !self.api.known_versions.contains(&self.api.current_version) {
            return bad("api.current_version must be one of api.known_versions".into());
        }
        if self.api.max_body_bytes < 1024 {
            return bad("api.max_body_bytes must be at least 1024".into());
        }
        if self.rate_limit.requests_per_minute == 0
            || self.rate_limit.session_create_per_minute == 0
            || self.rate_limit.publishable_per_minute == 0
        {
            return bad("rate limits must be at least 1 per minute".into());
        }
        if self.idempotency.ttl_hours < 1 || self.idempotency.lock_seconds < 1 {
            return bad(
                "idempotency.ttl_hours and idempotency.lock_seconds must be positive".into(),
            );
        }
        self.validate_checks()?;
        self.validate_webhooks()?;
        Ok(())
    }

    fn validate_checks(&self) -> Result<(), SettingsError> {
        let bad = |m: String| Err(SettingsError::Invalid(m));
        let checks = &self.checks;
        let threshold = checks.screening_threshold;
        if !(threshold.is_finite() && threshold > 0.0 && threshold <= 1.0) {
            return bad("checks.screening_threshold must be greater than 0 and at most 1".into());
        }
        let key = checks.duplicate_hash_key.expose_secret();
        let production = self.run_environment() == RunEnvironment::Production;
        if !key.is_empty() && key.len() < MIN_DUPLICATE_HASH_KEY_BYTES {
            return bad(format!(
                "checks.duplicate_hash_key must be at least {MIN_DUPLICATE_HASH_KEY_BYTES} bytes"
            ));
        }
        if production && key == DEV_DUPLICATE_HASH_KEY {
            return bad(
                "checks.duplicate_hash_key is the public development key: set a secret key \
                 (VERIFA__CHECKS__DUPLICATE_HASH_KEY) in production"
                    .into(),
            );
        }
        if let Some(vendor) = &checks.vendor {
            let url = vendor.base_url.trim();
            let https = url.starts_with("https://");
            if !(https || (!production && url.starts_with("http://"))) || url.len() < 9 {
                return bad(if production {
                    "checks.vendor.base_url must be an https:// URL in production".into()
                } else {
                    "checks.vendor.base_url must be an http:// or https:// URL".into()
                });
            }
            if vendor.timeout_secs == 0 || vendor.timeout_secs > 300 {
                return bad("checks.vendor.timeout_secs must be between 1 and 300".into());
            }
        }
        Ok(())
    }

    /// The duplicate-detection HMAC key: the configured one, else the public development key
    /// outside production; empty in production without a key (the check then answers `error`).
    pub fn duplicate_hash_key(&self) -> Vec<u8> {
        let key = self.checks.duplicate_hash_key.expose_secret();
        if !key.is_empty() {
            key.as_bytes().to_vec()
        } else if self.run_environment() == RunEnvironment::Production {
            Vec::new()
        } else {
            DEV_DUPLICATE_HASH_KEY.as_bytes().to_vec()
        }
    }

    /// The database URL (deliberately explicit at the one place it is used).
    pub fn database_url(&self) -> &str {
        self.database.url.expose_secret()
    }
}

impl Settings {
    fn validate_webhooks(&self) -> Result<(), SettingsError> {
        let bad = |m: &str| Err(SettingsError::Invalid(m.to_owned()));
        self.validate_secrets()?;
        let w = &self.webhooks;
        if w.lease_secs <= 30 {
            return bad("webhooks.lease_secs must exceed the 30 s delivery timeout");
        }
        if w.workers > 64 {
            return bad("webhooks.workers must be between 0 and 64");
        }
        if w.batch_size == 0 || w.batch_size > 1000 {
            return bad("webhooks.batch_size must be between 1 and 1000");
        }
        if w.poll_interval_ms == 0 {
            return bad("webhooks.poll_interval_ms must be at least 1");
        }
        if !(1..=10_080).contains(&self.sessions.capture_ttl_minutes) {
            return bad("sessions.capture_ttl_minutes must be between 1 and 10080");
        }
        if self.runs.workers == 0 || self.runs.poll_interval_ms == 0 || self.runs.lease_secs < 5 {
            return bad(
                "runs.workers and runs.poll_interval_ms must be at least 1, runs.lease_secs at least 5",
            );
        }
        if self.storage.url.is_empty() && self.storage.path.trim().is_empty() {
            return bad("storage.path must be set when storage.url is empty");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
