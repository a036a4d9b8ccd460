//! Age on a given date and the `age_verification` rule (`minimum_age`, outputs `age`, `passed`).
//!
//! Convention: a birthday is reached when the calendar (month, day) of the reference date is on
//! or after the (month, day) of birth. For someone born on 29 February this means that in a
//! non-leap year they turn a year older on 1 March, not on 28 February (the rule in e.g. English
//! and most US law; it is also what plain (month, day) ordering gives, since 02-28 < 02-29 < 03-01).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// Whole years between `dob` and `on`; 0 if `on` is before `dob`.
pub fn age_on(dob: NaiveDate, on: NaiveDate) -> u32 {
    if on < dob {
        return 0;
    }
    let years = on.year() - dob.year();
    let before_birthday = (on.month(), on.day()) < (dob.month(), dob.day());
    let age = if before_birthday { years - 1 } else { years };
    u32::try_from(age).unwrap_or(0)
}

/// Result of the age check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgeCheck {
    pub age: u32,
    pub minimum_age: u32,
    pub passed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AgeError {
    /// A birth date after the reference date is bad data, not a young applicant.
    #[error("date of birth {dob} is after {on}")]
    BornInFuture { dob: NaiveDate, on: NaiveDate },
}

impl AgeCheck {
    /// Passes when the age on `on` is at least `minimum_age` (the birthday itself counts).
    pub fn evaluate(dob: NaiveDate, on: NaiveDate, minimum_age: u32) -> Result<Self, AgeError> {
        if dob > on {
            return Err(AgeError::BornInFuture { dob, on });
        }
        let age = age_on(dob, on);
        Ok(Self {
            age,
            minimum_age,
            passed: age >= minimum_age,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn birthday_today_and_day_before() {
        assert_eq!(age_on(d(2008, 6, 15), d(2026, 6, 15)), 18);
        assert_eq!(age_on(d(2008, 6, 15), d(2026, 6, 14)), 17);
        assert_eq!(age_on(d(2008, 6, 15), d(2026, 6, 16)), 18);
        assert_eq!(age_on(d(2008, 12, 31), d(2027, 1, 1)), 18);
        assert_eq!(age_on(d(2008, 6, 15), d(2008, 6, 15)), 0);
        assert_eq!(age_on(d(2008, 6, 15), d(2000, 1, 1)), 0);
    }

    #[test]
    fn leap_day_birthdays() {
        let dob = d(2008, 2, 29);
        // Non-leap year: older on 1 March, not 28 February.
        assert_eq!(age_on(dob, d(2026, 2, 28)), 17);
        assert_eq!(age_on(dob, d(2026, 3, 1)), 18);
        // Leap year: older on 29 February itself.
        assert_eq!(age_on(dob, d(2028, 2, 28)), 19);
        assert_eq!(age_on(dob, d(2028, 2, 29)), 20);
        // Reference date on 29 February, ordinary birthday.
        assert_eq!(age_on(d(2010, 3, 1), d(2028, 2, 29)), 17);
        assert_eq!(age_on(d(2010, 2, 28), d(2028, 2, 29)), 18);
    }

    #[test]
    fn evaluate_minimum_age() {
        let on = d(2026, 6, 15);
        let pass = AgeCheck::evaluate(d(2008, 6, 15), on, 18).unwrap();
        assert_eq!(
            pass,
            AgeCheck {
                age: 18,
                minimum_age: 18,
                passed: true
            }
        );
        let fail = AgeCheck::evaluate(d(2008, 6, 16), on, 18).unwrap();
        assert_eq!(
            fail,
            AgeCheck {
                age: 17,
                minimum_age: 18,
                passed: false
            }
        );
        assert!(AgeCheck::evaluate(d(1997, 6, 15), on, 21).unwrap().passed);
        assert!(AgeCheck::evaluate(on, on, 0).unwrap().passed);
        assert_eq!(
            AgeCheck::evaluate(d(2026, 6, 16), on, 18),
            Err(AgeError::BornInFuture {
                dob: d(2026, 6, 16),
                on
            })
        );
    }

    proptest! {
        #[test]
        fn age_is_monotonic_and_never_panics(
            a in -200_000i32..200_000, b in -200_000i32..200_000, step in 0i64..800
        ) {
            let base = d(1970, 1, 1);
            let dob = base + chrono::Duration::days(i64::from(a));
            let on = base + chrono::Duration::days(i64::from(b));
            let later = on + chrono::Duration::days(step);
            prop_assert!(age_on(dob, later) >= age_on(dob, on));
            let _ = AgeCheck::evaluate(dob, on, 18);
        }
    }
}
