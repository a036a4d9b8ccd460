//! The pagination query and envelope (CONTRACT §1.3).

use crate::error::{ApiError, FieldErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use verifa_domain::pagination::{Page, PageRequest};

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
