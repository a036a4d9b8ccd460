//! The pagination query and envelope (CONTRACT §1.3).

use crate::error::{ApiError, FieldErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use verifa_domain::cursor::{CursorPage, CursorRequest};
use verifa_domain::pagination::{MAX_LIMIT, Page, PageRequest};

/// `limit` and `offset`, kept as text so a bad value is a 422 naming the parameter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1–100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Rows to skip, ≥ 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
}

impl PageQuery {
    /// Validates into a page request with the endpoint's default limit.
    pub fn page(&self, default_limit: u64) -> Result<PageRequest, ApiError> {
        let mut errors = Vec::new();
        let mut num = |field: &str, raw: &Option<String>| -> Option<i64> {
            raw.as_ref().map(|s| {
                s.trim().parse::<i64>().unwrap_or_else(|_| {
                    errors.push(FieldErrorBody {
                        field: field.into(),
                        message: "must be an integer".into(),
                    });
                    0
                })
            })
        };
        let limit = num("limit", &self.limit);
        let offset = num("offset", &self.offset);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        PageRequest::new(limit, offset, default_limit).map_err(|errs| {
            ApiError::validation(
                errs.into_iter()
                    .map(|e| FieldErrorBody {
                        field: e.field.into(),
                        message: e.message,
                    })
                    .collect(),
            )
        })
    }
}

/// The `pagination` object of list responses.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Pagination {
    /// Rows across all pages.
    #[schema(example = 142)]
    pub total: u64,
    /// Page size used.
    #[schema(example = 25)]
    pub limit: u64,
    /// Rows skipped.
    #[schema(example = 0)]
    pub offset: u64,
}

impl<T> From<&Page<T>> for Pagination {
    fn from(p: &Page<T>) -> Self {
        Self {
            total: p.total,
            limit: p.request.limit,
            offset: p.request.offset,
        }
    }
}

/// `page[after]`, `page[before]` and `page[size]` as received (each list declares them in its
/// own query type): cursor mode of the lists that offer it.
#[derive(Debug, Default)]
pub struct CursorQuery {
    /// Older rows than this cursor; blank: from the newest row.
    pub after: Option<String>,
    /// Newer rows than this cursor.
    pub before: Option<String>,
    /// Rows per page.
    pub size: Option<String>,
}

impl CursorQuery {
    /// Cursor mode when `page[after]` or `page[before]` is given; `None` for offset mode. A
    /// `page[size]` is checked in both modes, so a bad one is never silently ignored.
    pub fn request(&self) -> Option<Result<CursorRequest, ApiError>> {
        let size_error = |message: &str| {
            ApiError::validation(vec![FieldErrorBody {
                field: "page[size]".into(),
                message: message.into(),
            }])
        };
        let size = match self.size.as_deref().map(|s| s.trim().parse::<i64>()) {
            Some(Err(_)) => return Some(Err(size_error("must be an integer"))),
            Some(Ok(n)) => Some(n),
            None => None,
        };
        let parsed = CursorRequest::parse(self.after.as_deref(), self.before.as_deref(), size);
        let Some(parsed) = parsed else {
            let in_range = |n: i64| u64::try_from(n).is_ok_and(|n| (1..=MAX_LIMIT).contains(&n));
            let out_of_range = size.is_some_and(|n| !in_range(n));
            return out_of_range.then(|| Err(size_error("must be between 1 and 100")));
        };
        Some(parsed.map_err(|errs| {
            ApiError::validation(
                errs.into_iter()
                    .map(|e| FieldErrorBody {
                        field: e.field.into(),
                        message: e.message,
                    })
                    .collect(),
            )
        }))
    }
}

/// The `pagination` object of a list in cursor mode.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct CursorPagination {
    /// Page size used.
    pub page_size: u64,
    /// Whether more rows lie in the direction walked.
    pub has_more: bool,
    /// `page[after]` for the next (older) rows.
    pub next_cursor: Option<String>,
    /// `page[before]` for the previous (newer) rows.
    pub prev_cursor: Option<String>,
}

impl<T> From<&CursorPage<T>> for CursorPagination {
    fn from(p: &CursorPage<T>) -> Self {
        Self {
            page_size: p.page_size,
            has_more: p.has_more,
            next_cursor: p.next_cursor.clone(),
            prev_cursor: p.prev_cursor.clone(),
        }
    }
}

/// The `pagination` object of a list that offers both modes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum AnyPagination {
    /// Offset mode (`limit`, `offset`).
    Offset(Pagination),
    /// Cursor mode (`page[after]`, `page[before]`).
    Cursor(CursorPagination),
}
