//! Offset pagination rules (CONTRACT §1.3): `limit` 1–100 and `offset` ≥ 0.

/// Largest page a caller may ask for.
pub const MAX_LIMIT: u64 = 100;
/// Default page size unless an endpoint states otherwise.
pub const DEFAULT_LIMIT: u64 = 25;
/// Largest offset accepted; beyond this a scan is pointless and costly.
pub const MAX_OFFSET: u64 = 1_000_000;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page (1–100).
    pub limit: u64,
    /// Rows to skip.
    pub offset: u64,
}

/// One problem with the pagination parameters, naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    /// `limit` or `offset`.
    pub field: &'static str,
    /// Human-readable reason.
    pub message: String,
}

impl PageRequest {
    /// Validates raw values; `None` takes the endpoint default. Every problem is reported.
    pub fn new(
        limit: Option<i64>,
        offset: Option<i64>,
        default_limit: u64,
    ) -> Result<Self, Vec<PageError>> {
        let mut errors = Vec::new();
        let limit = match limit {
            None => default_limit,
            Some(l) if (1..=MAX_LIMIT as i64).contains(&l) => l as u64,
            Some(_) => {
                errors.push(PageError {
                    field: "limit",
                    message: format!("must be between 1 and {MAX_LIMIT}"),
                });
                default_limit
            }
        };
        let offset = match offset {
            None => 0,
            Some(o) if (0..=MAX_OFFSET as i64).contains(&o) => o as u64,
            Some(_) => {
                errors.push(PageError {
                    field: "offset",
                    message: format!("must be between 0 and {MAX_OFFSET}"),
                });
                0
            }
        };
        if errors.is_empty() {
            Ok(Self { limit, offset })
        } else {
            Err(errors)
        }
    }
}

/// A page of results plus the total count.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows matching the query across all pages.
    pub total: u64,
    /// The request that produced the page.
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// Maps the rows, keeping the counts.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced_and_all_reported() {
        assert_eq!(
            PageRequest::new(None, None, 25),
            Ok(PageRequest {
                limit: 25,
                offset: 0
            })
        );
        assert_eq!(
            PageRequest::new(Some(100), Some(5), 25),
            Ok(PageRequest {
                limit: 100,
                offset: 5
            })
        );
        assert_eq!(
            PageRequest::new(Some(0), Some(-1), 25).unwrap_err().len(),
            2
        );
        assert!(PageRequest::new(Some(101), None, 25).is_err());
    }
}
