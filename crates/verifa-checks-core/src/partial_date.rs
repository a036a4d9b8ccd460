//! Dates of birth as watchlists publish them: a year, a year and month, or a full date.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A date known to year, month or day precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialDate {
    Year(i32),
    YearMonth(i32, u32),
    Full(NaiveDate),
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (surrounding whitespace ignored). Anything else,
    /// including impossible months/days, is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let parts: Vec<&str> = s.split('-').collect();
        let num = |p: &str, len: usize| -> Option<u32> {
            if p.len() == len && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        };
        match parts.as_slice() {
            [y] => Some(Self::Year(i32::try_from(num(y, 4)?).ok()?)),
            [y, m] => {
                let year = i32::try_from(num(y, 4)?).ok()?;
                let month = num(m, 2)?;
                (1..=12)
                    .contains(&month)
                    .then_some(Self::YearMonth(year, month))
            }
            [y, m, d] => {
                let year = i32::try_from(num(y, 4)?).ok()?;
                NaiveDate::from_ymd_opt(year, num(m, 2)?, num(d, 2)?).map(Self::Full)
            }
            _ => None,
        }
    }

    pub fn year(self) -> i32 {
        match self {
            Self::Year(y) | Self::YearMonth(y, _) => y,
            Self::Full(d) => d.year(),
        }
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Year(y) => write!(f, "{y:04}"),
            Self::YearMonth(y, m) => write!(f, "{y:04}-{m:02}"),
            Self::Full(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_precisions() {
        assert_eq!(PartialDate::parse("1960"), Some(PartialDate::Year(1960)));
        assert_eq!(
            PartialDate::parse(" 1960-07 "),
            Some(PartialDate::YearMonth(1960, 7))
        );
        assert_eq!(
            PartialDate::parse("1960-07-10").map(|d| d.to_string()),
            Some("1960-07-10".to_owned())
        );
        for bad in [
            "",
            "60",
            "1960-13",
            "1960-02-30",
            "1960-7-1",
            "x960",
            "1960-01-01-01",
            "+960",
        ] {
            assert_eq!(PartialDate::parse(bad), None, "{bad}");
        }
    }
}
