//! Organization users (CONTRACT §6.1): the reviewers named by `reviewer_id` and the console's
//! users, common to both environments. Their roles, the rules on their editable fields, and the
//! rule that keeps an organization administrable. Hashing a password is the caller's job (the
//! domain has no randomness); the domain only says which passwords are acceptable.

use chrono::{DateTime, Utc};

/// Longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest display name.
pub const MAX_NAME_LEN: usize = 200;
/// Shortest password.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password.
pub const MAX_PASSWORD_LEN: usize = 256;

/// What a user may do (console §13.1; reviewing cases needs `reviewer` or `admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgRole {
    /// Everything, including users and settings.
    Admin,
    /// Works cases: claims, decisions, notes.
    Reviewer,
    /// Reads only.
    Viewer,
}

impl OrgRole {
    /// Every role, in documentation order.
    pub const ALL: [OrgRole; 3] = [OrgRole::Admin, OrgRole::Reviewer, OrgRole::Viewer];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Admin => "admin",
            OrgRole::Reviewer => "reviewer",
            OrgRole::Viewer => "viewer",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may claim and decide cases.
    pub fn reviews(self) -> bool {
        matches!(self, OrgRole::Admin | OrgRole::Reviewer)
    }
}

impl std::fmt::Display for OrgRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user of an organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgUser {
    /// `orguser_…`.
    pub id: String,
    /// The organization.
    pub org_id: String,
    /// Email as entered (unique per instance, compared case-insensitively).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: OrgRole,
    /// `false` once deactivated.
    pub is_active: bool,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// Whether the password is a one-time password, to be replaced at first login.
    pub password_is_temporary: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Last successful console sign-in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Write fence: the revision this record was read at.
    pub revision: i32,
}

impl OrgUser {
    /// Whether this user counts as an administrator of the organization.
    pub fn administers(&self) -> bool {
        self.is_active && self.role == OrgRole::Admin
    }

    /// Whether the email or the name contains `q`, case-insensitively (Unicode lower-casing,
    /// the same wherever users are stored).
    pub fn matches_text(&self, q: &str) -> bool {
        let q = q.to_lowercase();
        self.email.to_lowercase().contains(&q) || self.name.to_lowercase().contains(&q)
    }
}

/// The form emails are compared in (unique per instance, case-insensitive).
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks an email address: one `@` with something on both sides, a dot in the domain, no
/// whitespace or control characters, at most [`MAX_EMAIL_LEN`] characters.
///
/// # Errors
/// What is wrong, for the `email` field.
pub fn check_email(email: &str) -> Result<(), &'static str> {
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err("must be at most 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("must be an email address (name@example.com)");
    };
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    if local.is_empty() || !domain_ok {
        return Err("must be an email address (name@example.com)");
    }
    Ok(())
}

/// Checks a display name: something besides white space, at most [`MAX_NAME_LEN`] characters
/// (as sent; it is stored trimmed).
///
/// # Errors
/// What is wrong, for the `name` field.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.trim().is_empty() {
        Err("must not be empty")
    } else if name.chars().count() > MAX_NAME_LEN {
        Err("must be at most 200 characters")
    } else {
        Ok(())
    }
}

/// Checks a password chosen by a person: [`MIN_PASSWORD_LEN`] to [`MAX_PASSWORD_LEN`]
/// characters.
///
/// # Errors
/// What is wrong, for the `password` field.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        Err("must be at least 12 characters")
    } else if n > MAX_PASSWORD_LEN {
        Err("must be at most 256 characters")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_say_who_reviews() {
        for role in OrgRole::ALL {
            assert_eq!(OrgRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(OrgRole::parse("Admin"), None);
        assert!(OrgRole::Admin.reviews() && OrgRole::Reviewer.reviews());
        assert!(!OrgRole::Viewer.reviews());
    }

    #[test]
    fn emails_are_checked_and_compared_case_insensitively() {
        assert!(check_email("ana.reviewer@example.com").is_ok());
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "ana@example",
            "a b@example.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_email("a@b@example.com").is_err());
        assert!(check_email(&format!("{}@example.com", "a".repeat(250))).is_err());
        assert_eq!(email_key(" Ana@Example.COM "), "ana@example.com");
    }

    #[test]
    fn names_and_passwords_have_bounds() {
        assert!(check_name("  ").is_err());
        assert!(check_name(&"n".repeat(201)).is_err());
        assert!(check_name("Ana").is_ok());
        assert!(check_password("short").is_err());
        assert!(check_password(&"p".repeat(12)).is_ok());
        assert!(check_password(&"p".repeat(257)).is_err());
        // Characters, not bytes: twelve two-byte characters are enough.
        assert!(check_password(&"é".repeat(12)).is_ok());
    }
}
