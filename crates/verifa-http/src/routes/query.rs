//! Parsing of typed query parameters kept as text, so a bad value is a 422 naming it.

use crate::error::{ApiError, FieldErrorBody};
use chrono::{DateTime, Utc};

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldErrorBody {
        field: field.into(),
        message: message.into(),
    }])
}

/// `true` / `false`.
pub fn parse_bool(field: &str, raw: &Option<String>) -> Result<Option<bool>, ApiError> {
    match raw.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(invalid(field, "must be true or false")),
    }
}

/// An RFC 3339 timestamp, or a `YYYY-MM-DD` date (its start, or with `end_of_day` the start of
/// the next day, so a date bound is inclusive).
pub fn parse_time(
    field: &str,
    raw: &Option<String>,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(s) = raw.as_deref() else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    Err(invalid(
        field,
        "must be an RFC 3339 timestamp or a YYYY-MM-DD date",
    ))
}
