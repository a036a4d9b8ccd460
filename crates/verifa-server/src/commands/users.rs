//! `verifa users create --org ORG --email … --role admin|reviewer|viewer [--name …]
//! [--password-stdin]` and `verifa users reset-password --email … [--password-stdin]`.
//!
//! The password is read from standard input when asked (one line), else a one-time password is
//! generated and printed once to stdout, never to the log stream.

use crate::compose::{build_application, connect};
use crate::settings::Settings;
use std::io::BufRead as _;
use verifa_app::AppError;
use verifa_app::org_users::{NewOrgUser, UserWithPassword};

/// What `users create` was given.
pub struct CreateUser {
    /// Organization id.
    pub org: String,
    /// Email.
    pub email: String,
    /// Role name.
    pub role: String,
    /// Display name (default: the email's local part).
    pub name: Option<String>,
    /// Read the password from stdin.
    pub password_stdin: bool,
}

/// Creates an organization user.
pub async fn create(settings: &Settings, input: CreateUser) -> anyhow::Result<()> {
    let password = input.password_stdin.then(read_password).transpose()?;
    let name = input.name.unwrap_or_else(|| {
        input
            .email
            .split('@')
            .next()
            .unwrap_or(&input.email)
            .to_owned()
    });
    let db = connect(settings, true).await?;
    let app = build_application(settings, db)?;
    let outcome = app
        .services
        .org_users
        .create_in(
            &input.org,
            NewOrgUser {
                email: Some(input.email),
                name: Some(name),
                role: Some(input.role),
            },
            password,
        )
        .await;
    app.db.close().await;
    let created = outcome.map_err(explain)?;
    print_user("Created organization user", &created);
    Ok(())
}

/// Resets the password of the user with `email`.
pub async fn reset_password(
    settings: &Settings,
    email: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let password = password_stdin.then(read_password).transpose()?;
    let db = connect(settings, true).await?;
    let app = build_application(settings, db)?;
    let outcome = app
        .services
        .org_users
        .reset_password_by_email(email, password)
        .await;
    app.db.close().await;
    let reset = outcome.map_err(explain)?;
    print_user("Password reset", &reset);
    Ok(())
}

/// One line of stdin, without its line break.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// A use-case error in words an operator can act on (every invalid field named).
fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

#[allow(clippy::print_stdout)]
fn print_user(title: &str, issued: &UserWithPassword) {
    let u = &issued.user;
    println!();
    println!(" {title}");
    println!(" organization: {}", u.org_id);
    println!(" user:         {} <{}> ({})", u.id, u.email, u.role);
    if u.password_is_temporary {
        println!(" one-time password: {}", issued.one_time_password);
        println!(" Shown once: the user replaces it at first sign-in.");
    } else {
        println!(" password: as given on standard input");
    }
    println!();
}
