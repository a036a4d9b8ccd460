//! `verifa`: the Verifa service binary. `verifa` alone (or `verifa serve`) runs the API server;
//! the other subcommands are operator tools working on the configured database.

use clap::{Parser, Subcommand};
use verifa_server::commands::{self, migrate::MigrateAction};
use verifa_server::settings::Settings;
use verifa_server::telemetry;

#[derive(Parser)]
#[command(
    name = "verifa",
    version,
    about = "Self-hostable identity verification service (Verifa API)"
)]
struct Cli {
    /// Database URL, overriding the configuration (VERIFA__DATABASE__URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default).
    Serve,
    /// Apply, roll back or list database migrations.
    Migrate {
        /// up | down | fresh | status
        #[arg(value_enum, default_value = "up")]
        action: MigrateAction,
    },
    /// Manage organizations.
    Orgs {
        #[command(subcommand)]
        command: OrgsCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage organization users (reviewers, console users).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Create demo data (a demo organization with well-known keys).
    Seed,
    /// Import and inspect screening watchlists.
    Watchlists {
        #[command(subcommand)]
        command: WatchlistsCommand,
    },
}

#[derive(Subcommand)]
enum WatchlistsCommand {
    /// Replace a watchlist with the entries of a file (prints the count).
    Import {
        /// `ofac` (OFAC SDN legacy CSV) or `csv` (name,aliases,list,country,date_of_birth).
        #[arg(long, value_enum)]
        format: commands::watchlists::ImportFormat,
        /// Store every entry under this list name (default: `OFAC SDN` for ofac, the file's
        /// `list` column for csv).
        #[arg(long)]
        list: Option<String>,
        /// The file to import (`sdn.csv` for ofac).
        file: std::path::PathBuf,
        /// OFAC `alt.csv` with aliases (ofac only).
        #[arg(long)]
        alt: Option<std::path::PathBuf>,
    },
    /// List the loaded watchlists with their entry counts.
    Status,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every audit hash chain (or one organization's / environment's); exits 1 when
    /// a chain is broken.
    Verify {
        /// Only this organization (`org_…`).
        #[arg(long)]
        org: Option<String>,
        /// Only `live` or `sandbox`.
        #[arg(long)]
        environment: Option<String>,
    },
}

#[derive(Subcommand)]
enum OrgsCommand {
    /// Create an organization with a live and a sandbox admin key.
    Create {
        /// Organization name.
        name: String,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a user; prints a one-time password unless one is read from stdin.
    Create {
        /// Organization (`org_…`).
        #[arg(long)]
        org: String,
        /// Email (unique across the instance).
        #[arg(long)]
        email: String,
        /// `admin`, `reviewer` or `viewer`.
        #[arg(long)]
        role: String,
        /// Display name (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
        /// Read the password (12–256 characters) from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Reset a user's password; prints a one-time password unless one is read from stdin.
    ResetPassword {
        /// The user's email.
        #[arg(long)]
        email: String,
        /// Read the new password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key; the secret is printed once.
    Create {
        /// Organization id (`org_…`).
        #[arg(long)]
        org: String,
        /// `sandbox` or `live`.
        #[arg(long)]
        environment: String,
        /// Comma-separated scopes (default: every scope).
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
        /// Label.
        #[arg(long)]
        label: Option<String>,
    },
    /// Re-wrap every session's data key under `security.encryption_key` (the old master key
    /// in `security.previous_encryption_keys`); resumable, the data itself is not touched.
    RotateMaster {
        /// Data keys read per batch.
        #[arg(long, default_value_t = 500)]
        batch: u64,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("verifa: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Some(url) = cli.database_url {
        settings.database.url = url.into();
        if let Err(e) = settings.validate() {
            eprintln!("verifa: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    telemetry::init(&settings.log.format, &settings.log.level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("verifa: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => commands::serve::run(settings).await,
            Command::Migrate { action } => commands::migrate::run(&settings, action).await,
            Command::Orgs {
                command: OrgsCommand::Create { name },
            } => commands::orgs::create(&settings, &name).await,
            Command::Keys {
                command:
                    KeysCommand::Create {
                        org,
                        environment,
                        scopes,
                        label,
                    },
            } => commands::keys::create(&settings, &org, &environment, scopes, label).await,
            Command::Keys {
                command: KeysCommand::RotateMaster { batch },
            } => commands::keys::rotate_master(&settings, batch).await,
            Command::Users {
                command:
                    UsersCommand::Create {
                        org,
                        email,
                        role,
                        name,
                        password_stdin,
                    },
            } => {
                let input = commands::users::CreateUser {
                    org,
                    email,
                    role,
                    name,
                    password_stdin,
                };
                commands::users::create(&settings, input).await
            }
            Command::Users {
                command:
                    UsersCommand::ResetPassword {
                        email,
                        password_stdin,
                    },
            } => commands::users::reset_password(&settings, &email, password_stdin).await,
            Command::Audit {
                command: AuditCommand::Verify { org, environment },
            } => commands::audit::verify(&settings, org.as_deref(), environment.as_deref()).await,
            Command::Seed => commands::seed::run(&settings).await,
            Command::Watchlists {
                command:
                    WatchlistsCommand::Import {
                        format,
                        list,
                        file,
                        alt,
                    },
            } => {
                commands::watchlists::import(
                    &settings,
                    format,
                    list.as_deref(),
                    &file,
                    alt.as_deref(),
                )
                .await
            }
            Command::Watchlists {
                command: WatchlistsCommand::Status,
            } => commands::watchlists::status(&settings).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("verifa: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
