//! Cursor pagination (CONTRACT §7.2): `page[after]` or `page[before]` with `page[size]`, over a
//! list ordered newest first by `(created_at, id)`. A cursor is the opaque position of one row
//! (hex of `<RFC 3339 time>|<id>`); the answer says whether more rows lie in the direction
//! walked and gives the cursors to walk on.

use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT, PageError};
use chrono::{DateTime, Utc};

/// The position of one row in a newest-first list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The row's creation time.
    pub created_at: DateTime<Utc>,
    /// The row's id (ties on the time are ordered by id).
    pub id: String,
}

impl Cursor {
    /// The opaque form given to callers.
    pub fn encode(&self) -> String {
        hex::encode(format!("{}|{}", self.created_at.to_rfc3339(), self.id))
    }

    /// Reads an opaque cursor; `None` when it is not one.
    pub fn decode(raw: &str) -> Option<Self> {
        let text = String::from_utf8(hex::decode(raw).ok()?).ok()?;
        let (at, id) = text.split_once('|')?;
        let created_at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
        (!id.is_empty()).then(|| Self {
            created_at,
            id: id.to_owned(),
        })
    }
}

/// Which way a cursor page walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    /// Older rows than the cursor (`None`: from the newest row).
    After(Option<Cursor>),
    /// Newer rows than the cursor.
    Before(Cursor),
}

/// A validated cursor page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorRequest {
    /// Where to start and which way.
    pub direction: Direction,
    /// Rows per page (1–100).
    pub size: u64,
}

impl CursorRequest {
    /// Cursor mode from the raw parameters: `None` when neither `page[after]` nor
    /// `page[before]` is given (offset mode). A blank `page[after]` starts at the newest row.
    ///
    /// # Errors
    /// Every problem, naming its parameter.
    pub fn parse(
        after: Option<&str>,
        before: Option<&str>,
        size: Option<i64>,
    ) -> Option<Result<Self, Vec<PageError>>> {
        if after.is_none() && before.is_none() {
            return None;
        }
        let mut errors = Vec::new();
        let mut bad = |field: &'static str, message: &str| {
            errors.push(PageError {
                field,
                message: message.to_owned(),
            });
        };
        let size = match size {
            None => DEFAULT_LIMIT,
            Some(s) => match u64::try_from(s) {
                Ok(s) if (1..=MAX_LIMIT).contains(&s) => s,
                _ => {
                    bad("page[size]", "must be between 1 and 100");
                    DEFAULT_LIMIT
                }
            },
        };
        let cursor = |raw: &str| Cursor::decode(raw);
        let direction = match (after, before) {
            (Some(_), Some(_)) => {
                bad("page[before]", "give page[after] or page[before], not both");
                None
            }
            (Some(""), None) => Some(Direction::After(None)),
            (Some(a), None) => match cursor(a) {
                Some(c) => Some(Direction::After(Some(c))),
                None => {
                    bad("page[after]", "is not a cursor this list gave");
                    None
                }
            },
            (None, Some(b)) => match cursor(b) {
                Some(c) => Some(Direction::Before(c)),
                None => {
                    bad("page[before]", "is not a cursor this list gave");
                    None
                }
            },
            (None, None) => None,
        };
        Some(match direction {
            Some(direction) if errors.is_empty() => Ok(Self { direction, size }),
            _ => Err(errors),
        })
    }
}

/// One cursor page: the rows newest first and the cursors to walk on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorPage<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// Rows per page asked for.
    pub page_size: u64,
    /// Whether more rows lie in the direction walked.
    pub has_more: bool,
    /// `page[after]` for the older rows, if any may follow.
    pub next_cursor: Option<String>,
    /// `page[before]` for the newer rows, if any may precede.
    pub prev_cursor: Option<String>,
}

impl<T> CursorPage<T> {
    /// The page of `request` from `rows`: what the store read in the direction walked (newest
    /// first for `After`, oldest first for `Before`), at most `size + 1` of them, the extra one
    /// only telling that more follow.
    pub fn of(request: &CursorRequest, mut rows: Vec<T>, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let size = usize::try_from(request.size).unwrap_or(usize::MAX);
        let has_more = rows.len() > size;
        rows.truncate(size);
        let (next, prev) = match &request.direction {
            Direction::After(from) => (has_more, from.is_some()),
            Direction::Before(_) => {
                rows.reverse();
                (true, has_more)
            }
        };
        let encode = |row: Option<&T>| row.map(|r| cursor_of(r).encode());
        Self {
            next_cursor: if next { encode(rows.last()) } else { None },
            prev_cursor: if prev { encode(rows.first()) } else { None },
            items: rows,
            page_size: request.size,
            has_more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_770_000_000 + s, 123_456_000).unwrap_or_default()
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            created_at: at(5),
            id: "idn_1".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in ["", "zz", "6869", &hex::encode("2026-01-01T00:00:00Z|")] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn parameters_choose_the_mode_and_name_their_problems() {
        assert_eq!(
            CursorRequest::parse(None, None, Some(500)),
            None,
            "offset mode"
        );
        let first = CursorRequest::parse(Some(""), None, None).unwrap().unwrap();
        assert_eq!((first.direction, first.size), (Direction::After(None), 25));
        let errors = CursorRequest::parse(Some("nope"), None, Some(0))
            .unwrap()
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["page[size]", "page[after]"]);
        assert!(
            CursorRequest::parse(Some(""), Some(""), None)
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn pages_give_the_cursors_to_walk_on() {
        let cursor_of = |n: &i64| Cursor {
            created_at: at(*n),
            id: format!("r{n}"),
        };
        let first = CursorRequest {
            direction: Direction::After(None),
            size: 2,
        };
        let page = CursorPage::of(&first, vec![9, 8, 7], cursor_of);
        assert_eq!((page.items.clone(), page.has_more), (vec![9, 8], true));
        assert_eq!(page.next_cursor, Some(cursor_of(&8).encode()));
        assert_eq!(
            page.prev_cursor, None,
            "nothing is newer than the first page"
        );
        let back = CursorRequest {
            direction: Direction::Before(cursor_of(&7)),
            size: 2,
        };
        let page = CursorPage::of(&back, vec![8, 9], cursor_of);
        assert_eq!(page.items, vec![9, 8], "newest first again");
        assert!(!page.has_more);
        assert_eq!(page.prev_cursor, None);
        assert_eq!(page.next_cursor, Some(cursor_of(&8).encode()));
    }
}
